// The one-pass CPU AdamW (cpu_adamw.hpp) against LibTorch's clip_grad_norm_ and AdamW.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <torch/nn/utils/clip_grad.h>  // after torch.h, which it needs

#include "asaflow/model/cpu_adamw.hpp"

namespace asaflow::model {
namespace {

using torch::optim::AdamW;
using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

// Parameters of odd sizes (a tail after the 8-wide loop; one large enough to be split
// between threads) and one that gets no gradient.
std::vector<torch::Tensor> make_params() {
  torch::manual_seed(7);
  std::vector<torch::Tensor> ps = {torch::randn({300, 77}), torch::randn({13}), torch::randn({5, 3})};
  for (auto& p : ps) p.set_requires_grad(true);
  return ps;
}

std::vector<torch::Tensor> copy_of(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

// Two groups as the trainer makes them: weight decay on the first parameter only.
std::unique_ptr<AdamW> make_optimizer(const std::vector<torch::Tensor>& ps, bool amsgrad = false) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{ps[0]},
                      std::make_unique<AdamWOptions>(AdamWOptions(3e-2).weight_decay(0.1).amsgrad(amsgrad)));
  groups.emplace_back(std::vector<torch::Tensor>{ps[1], ps[2]},
                      std::make_unique<AdamWOptions>(AdamWOptions(3e-2).weight_decay(0.0).amsgrad(amsgrad)));
  return std::make_unique<AdamW>(groups, AdamWOptions(3e-2));
}

// The same gradients on both sides; the last parameter gets none.
void set_grads(std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b, int step, double scale) {
  torch::manual_seed(100 + step);
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    auto g = torch::randn_like(a[i]) * scale;
    a[i].mutable_grad() = g.clone();
    b[i].mutable_grad() = g.clone();
  }
}

double max_relative_difference(const torch::Tensor& x, const torch::Tensor& y) {
  return ((x - y).abs() / (y.abs() + 1e-6)).max().item<double>();
}

void expect_same_state(const std::vector<torch::Tensor>& a, AdamW& oa, const std::vector<torch::Tensor>& b, AdamW& ob,
                       double tolerance) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_LE(max_relative_difference(a[i].detach(), b[i].detach()), tolerance) << "parameter " << i;
    const auto key_a = optimizer_state_key(a[i]);
    const auto key_b = optimizer_state_key(b[i]);
    ASSERT_EQ(oa.state().count(key_a), ob.state().count(key_b)) << "parameter " << i;
    if (!oa.state().count(key_a)) continue;
    const auto& sa = static_cast<const AdamWParamState&>(*oa.state().at(key_a));
    const auto& sb = static_cast<const AdamWParamState&>(*ob.state().at(key_b));
    EXPECT_EQ(sa.step(), sb.step()) << "parameter " << i;
    EXPECT_LE(max_relative_difference(sa.exp_avg(), sb.exp_avg()), tolerance) << "parameter " << i;
    EXPECT_LE(max_relative_difference(sa.exp_avg_sq(), sb.exp_avg_sq()), tolerance) << "parameter " << i;
  }
}

TEST(CpuAdamW, MatchesClipGradNormAndAdamWStepByStepThenHandsOverToIt) {
  auto ours = make_params(), theirs = copy_of(ours);
  auto o = make_optimizer(ours), t = make_optimizer(theirs);
  for (int step = 0; step < 6; ++step) {
    set_grads(ours, theirs, step, step % 2 ? 0.01 : 3.0);  // clipping on even steps only
    const double norm = clipped_adamw_step(*o, ours, 1.0);
    const double expected = torch::nn::utils::clip_grad_norm_(theirs, 1.0);
    t->step();
    EXPECT_NEAR(norm, expected, 1e-5 * expected) << "step " << step;
    expect_same_state(ours, *o, theirs, *t, 1e-5);
  }
  EXPECT_FALSE(ours[2].grad().defined());
  // The state it keeps is AdamW's own: LibTorch's step carries on from it.
  set_grads(ours, theirs, 6, 1.0);
  o->step();
  t->step();
  expect_same_state(ours, *o, theirs, *t, 1e-5);
}

TEST(CpuAdamW, MaxNormZeroMeansNoClipping) {
  auto ours = make_params(), theirs = copy_of(ours);
  auto o = make_optimizer(ours), t = make_optimizer(theirs);
  set_grads(ours, theirs, 0, 50.0);
  const auto before = ours[0].detach().clone();
  const double norm = clipped_adamw_step(*o, ours, 0.0);
  t->step();  // unclipped
  EXPECT_GT(norm, 1000.0);
  expect_same_state(ours, *o, theirs, *t, 1e-5);
  EXPECT_GT((ours[0].detach() - before).abs().max().item<double>(), 1e-3);
}

TEST(CpuAdamW, RefusesWhatItDoesNotHandleAndChangesNothing) {
  {  // amsgrad
    auto ps = make_params();
    auto o = make_optimizer(ps, /*amsgrad=*/true);
    std::vector<torch::Tensor> copy = copy_of(ps);
    set_grads(ps, copy, 0, 1.0);
    const auto before = ps[0].detach().clone();
    EXPECT_FALSE(cpu_adamw_step(*o, 1.0f));
    EXPECT_TRUE(torch::equal(ps[0].detach(), before));
    EXPECT_TRUE(o->state().empty());
  }
  {  // a float64 parameter beside float32 ones
    auto ps = make_params();
    ps[1] = torch::randn({13}, torch::kFloat64).set_requires_grad(true);
    auto o = make_optimizer(ps);
    ps[0].mutable_grad() = torch::ones_like(ps[0]);
    ps[1].mutable_grad() = torch::ones_like(ps[1]);
    const auto before = ps[0].detach().clone();
    EXPECT_FALSE(cpu_adamw_step(*o, 1.0f));
    EXPECT_TRUE(torch::equal(ps[0].detach(), before));
    EXPECT_TRUE(o->state().empty());
  }
  {  // a non-contiguous gradient
    auto ps = make_params();
    auto o = make_optimizer(ps);
    ps[0].mutable_grad() = torch::ones({77, 300}).t();
    EXPECT_FALSE(cpu_adamw_step(*o, 1.0f));
    EXPECT_TRUE(o->state().empty());
  }
}

}  // namespace
}  // namespace asaflow::model

namespace asaflow::model {
namespace {

// release_gradients + zero_missing_gradients against zero_grad(): a parameter that had a
// gradient and gets none from this backward is still stepped (with zeros: decay and
// momentum), one that never had one is not; the others get backward's gradient as it is.
TEST(CpuAdamW, ReleasedGradientsStepAsZeroGradDid) {
  auto ours = make_params(), theirs = copy_of(ours);
  auto o = make_optimizer(ours), t = make_optimizer(theirs);
  auto backward = [](std::vector<torch::Tensor>& ps, bool use_second) {
    auto loss = (ps[0] * ps[0]).sum() * 0.01;
    if (use_second) loss = loss + (ps[1] * 3.0).sum();
    loss.backward();
  };
  for (int step = 0; step < 3; ++step) {
    const bool use_second = step == 0;  // then never again
    const auto had = release_gradients(ours);
    backward(ours, use_second);
    zero_missing_gradients(ours, had);
    clipped_adamw_step(*o, ours, 1.0);
    t->zero_grad();
    backward(theirs, use_second);
    torch::nn::utils::clip_grad_norm_(theirs, 1.0);
    t->step();
    expect_same_state(ours, *o, theirs, *t, 1e-5);
  }
  EXPECT_TRUE(ours[1].grad().defined());
  EXPECT_EQ(ours[1].grad().abs().max().item<float>(), 0.0F);
  EXPECT_FALSE(ours[2].grad().defined());
}

}  // namespace
}  // namespace asaflow::model
