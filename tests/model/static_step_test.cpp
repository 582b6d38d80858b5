// StaticStep, the capture-ready training step: on the CPU it must follow Trainer::train_step
// (same losses and weights, dropout on, both presets' weight-decay groups), refuse a batch
// of another shape, and refuse a CUDA graph it cannot have. The embedding lookup that makes
// the backward capture-safe must keep nn.Embedding's padding_idx behaviour. The graph itself
// is checked on a GPU (skipped here when CUDA is absent).
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/static_step.hpp"
#include "asaflow/model/trainer.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::model;

namespace {

using test::Modes;
using test::pos_matrix;

// Examples of lengths 6..12 (example e has 6 + e % 7 tokens, or `length` tokens when it is
// given), ids below 200, some pads.
nlp::PreprocessedSplit examples(std::size_t n, std::int64_t length = 0) {
  torch::manual_seed(5);
  nlp::PreprocessedSplit s;
  s.max_length = 12;
  for (std::size_t e = 0; e < n; ++e) {
    nlp::Example x;
    const auto len = length > 0 ? length : std::int64_t(6 + e % 7);
    auto ids = torch::randint(1, 200, {len});
    auto pos = torch::randint(0, 17, {len});
    for (std::int64_t t = 0; t < len; ++t) {
      x.ids.push_back(std::int32_t(ids[t].item<std::int64_t>()));
      x.pos.push_back(std::uint8_t(pos[t].item<std::int64_t>()));
      x.features.push_back(std::uint16_t(1u << (t % 15)));
      x.requirements.push_back(std::uint16_t(t % 3 == 0 ? 1u << 4 : 0));
      x.word_index.push_back(std::int32_t(t));
    }
    s.examples.push_back(std::move(x));
  }
  return s;
}

// Every batch holds one 12-token example (e % 7 == 6), so all have shape [3, 12].
const std::vector<std::vector<std::size_t>> kBatches = {{0, 1, 6}, {2, 3, 13}, {4, 5, 6}, {7, 8, 13}};

void expect_step_follows_trainer(const std::string& mode, const std::string& preset) {
  SCOPED_TRACE(mode + " " + preset);
  Modes modes;
  const auto data = examples(14);
  const ModelConfig c = ModelConfig::preset("tiny", 200);  // dropout 0.1 stays on
  TrainOptions o;
  o.device = DeviceChoice::kCpu;
  o.preset = parse_choice<Preset>(preset, "preset");
  o.seed = 3;
  o.loss_chunk_rows = 8;
  test::TempDir d1, d2;
  Trainer eager(c, o, modes.all.at(mode), pos_matrix(), data, data, d1.path);
  Trainer twin(c, o, modes.all.at(mode), pos_matrix(), data, data, d2.path);  // same seed: same weights
  StaticStep fast(twin.model(), modes.all.at(mode), pos_matrix(), o);
  const BatchOptions bo{preset == "faithful", c.pad_id};
  for (std::size_t s = 0; s < kBatches.size(); ++s) {
    const auto batch = make_batch(data, kBatches[s], bo, torch::kCPU);
    const double lr = 1e-3 * double(s + 1);  // a changing lr must reach the device scalar
    torch::manual_seed(100 + std::int64_t(s));
    const double expected = eager.train_step(batch, lr);
    torch::manual_seed(100 + std::int64_t(s));  // the same dropout masks
    const double got = fast.step(batch, lr).item<double>();
    EXPECT_NEAR(got, expected, 1e-5 * std::abs(expected)) << "step " << s;
  }
  EXPECT_EQ(fast.steps(), 4);
  // The key projection's bias cannot change any softmax, so its true gradient is zero and
  // what it gets is rounding noise, which AdamW turns into steps of about lr in random
  // directions: it is held only to the sum of the learning rates (0.01).
  auto a = eager.model()->named_parameters(), b = twin.model()->named_parameters();
  for (const auto& item : a) {
    const double diff = (item.value() - b[item.key()]).abs().max().item<double>();
    const bool noise_driven = item.key().find("attn.k.bias") != std::string::npos;
    EXPECT_LT(diff, noise_driven ? 1e-2 : 2e-6) << item.key();
  }
  // The steps moved the weights: the comparison above is not between two untouched models.
  Trainer fresh(c, o, modes.all.at(mode), pos_matrix(), data, data, d1.path / "fresh");
  EXPECT_FALSE(torch::allclose(fresh.model()->output_weight(), twin.model()->output_weight()));
}

}  // namespace

TEST(StaticStep, FollowsTheTrainersStepInModeFullCorrected) { expect_step_follows_trainer("full", "corrected"); }
TEST(StaticStep, FollowsTheTrainersStepInModeNoneFaithful) { expect_step_follows_trainer("none", "faithful"); }

TEST(StaticStep, RefusesABatchOfAnotherShape) {
  Modes modes;
  const auto data = examples(14);
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  TrainOptions o;
  o.device = DeviceChoice::kCpu;
  test::TempDir d;
  Trainer t(c, o, modes.all.at("none"), pos_matrix(), data, data, d.path);
  StaticStep fast(t.model(), modes.all.at("none"), pos_matrix(), o);
  const BatchOptions bo{false, c.pad_id};
  fast.step(make_batch(data, {0, 1, 6}, bo, torch::kCPU), 1e-3);
  try {
    fast.step(make_batch(data, {0, 1, 2}, bo, torch::kCPU), 1e-3);  // longest: 8 tokens
    FAIL() << "a [3, 8] batch after a [3, 12] one must be refused";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "a static training step needs batches of one shape: [3, 12] first, then [3, 8] (pad every batch to the "
              "same length)");
  }
}

TEST(StaticStep, RefusesACudaGraphForACpuModel) {
  Modes modes;
  const auto data = examples(7);
  TrainOptions o;
  o.device = DeviceChoice::kCpu;
  test::TempDir d;
  Trainer t(ModelConfig::preset("tiny", 200), o, modes.all.at("none"), pos_matrix(), data, data, d.path);
  EXPECT_THROW(StaticStep(t.model(), modes.all.at("none"), pos_matrix(), o, /*cuda_graph=*/true), ConfigError);
}

TEST(StaticStep, CudaGraphReplaysTheEagerStep) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  Modes modes;
  const auto data = examples(14);
  ModelConfig c = ModelConfig::preset("tiny", 200);
  c.dropout = 0;  // a graph's RNG offsets need not match eager draws; the arithmetic must
  TrainOptions o;
  o.device = DeviceChoice::kCuda;
  test::TempDir d1, d2;
  Trainer eager(c, o, modes.all.at("full"), pos_matrix().cuda(), data, data, d1.path);
  Trainer twin(c, o, modes.all.at("full"), pos_matrix().cuda(), data, data, d2.path);
  StaticStep graph(twin.model(), modes.all.at("full"), pos_matrix().cuda(), o, /*cuda_graph=*/true, /*warmup_steps=*/1);
  for (int round = 0; round < 2; ++round) {
    for (const auto& idx : kBatches) {
      const auto batch = make_batch(data, idx, BatchOptions{false, c.pad_id}, torch::kCUDA);
      const double expected = eager.train_step(batch, 1e-3);
      EXPECT_NEAR(graph.step(batch, 1e-3).item<double>(), expected, 1e-4 * std::abs(expected));
    }
  }
  EXPECT_TRUE(graph.graphed());
}

TEST(Embedding, PadTokensReadTheirRowButSendItNoGradient) {
  ModelConfig c = ModelConfig::preset("tiny", 200);
  ASSERT_EQ(c.pad_id, 0);
  AsaTransformer m(c);
  auto ids = torch::tensor({3, 0, 3, 7}, torch::kInt64).view({1, 4});
  auto x = m->embed(ids);  // [1,4,C]
  const auto& w = m->output_weight();
  EXPECT_TRUE(torch::equal(x[0][1], w[0]));  // the pad's row is read
  EXPECT_TRUE(torch::equal(x[0][0], w[3]));
  x.sum().backward();
  const auto g = w.grad();
  EXPECT_EQ(g[0].abs().sum().item<float>(), 0.0f);                     // ... but gets no gradient
  EXPECT_TRUE(torch::allclose(g[3], torch::full({c.d_model}, 2.0f)));  // two occurrences
  EXPECT_TRUE(torch::allclose(g[7], torch::ones({c.d_model})));
  EXPECT_EQ(g[5].abs().sum().item<float>(), 0.0f);
}

namespace {

TrainOptions run_options(const std::string& step) {
  TrainOptions o = test::small_options();  // batch 3 on the CPU
  o.step = parse_choice<StepKind>(step, "step");
  o.max_steps = 8;
  o.eval_every = 4;
  o.log_every = 1;
  o.checkpoint_every = 0;
  o.seed = 7;
  o.loss_chunk_rows = 8;
  return o;
}

}  // namespace

// Trainer::run with the static step: where every batch already has the fixed shape (15
// examples of 12 tokens, batches of 3), it follows the eager run step for step, dropout on.
TEST(StaticStep, TrainerRunFollowsTheEagerRun) {
  Modes modes;
  const auto data = examples(15, 12);
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir d1, d2;
  Trainer eager(c, run_options("eager"), modes.all.at("full"), pos_matrix(), data, data, d1.path);
  Trainer fast(c, run_options("static"), modes.all.at("full"), pos_matrix(), data, data, d2.path);
  EXPECT_EQ(name_of(fast.step_kind()), "static");
  const TrainResult a = eager.run(), b = fast.run();
  EXPECT_EQ(a.step, "eager");
  EXPECT_EQ(b.step, "static");
  ASSERT_EQ(a.train_loss.size(), 8u);
  ASSERT_EQ(b.train_loss.size(), a.train_loss.size());
  for (std::size_t i = 0; i < a.train_loss.size(); ++i) {
    EXPECT_NEAR(b.train_loss[i].second, a.train_loss[i].second, 1e-5 * a.train_loss[i].second) << "step " << i + 1;
  }
  ASSERT_EQ(b.val_ppl.size(), 2u);
  for (std::size_t i = 0; i < a.val_ppl.size(); ++i)
    EXPECT_NEAR(b.val_ppl[i].second, a.val_ppl[i].second, 1e-4 * a.val_ppl[i].second);
  EXPECT_LT(a.val_ppl.back().second, a.val_ppl.front().second);  // it trained
  EXPECT_EQ(b.train_tokens, a.train_tokens);
}

// Examples of 6..12 tokens and 20 of them in batches of 3: the static step pads every batch
// to [3, 12] (the last of each epoch has 2 examples). A crash (an injected NaN at step 10)
// and a rerun resume from the checkpoint at step 8, StaticStep's AdamW state included, and
// end with the weights and curves of an uninterrupted run; the checkpoint refuses a run
// with the eager step. On a CUDA device (the graph step) the checkpoint is read onto the
// device, and what belongs to the host (the curves, the generator's state) must come back
// first: resuming a graph-step cell crashed there once (H200, 2026-12-04). The weights and
// curves follow the uninterrupted run within `tolerance` (relative; 0: bit for bit).
namespace {

void expect_resume_after_crash(const std::string& step, DeviceChoice device, double tolerance) {
  Modes modes;
  const auto data = examples(20);
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  TrainOptions o = run_options(step);
  o.device = device;
  o.max_steps = 12;
  o.checkpoint_every = 4;
  test::TempDir a_dir, b_dir;
  Trainer a(c, o, modes.all.at("full"), pos_matrix(), data, data, a_dir.path);
  const TrainResult ra = a.run();
  EXPECT_EQ(ra.steps_per_epoch, 7);
  EXPECT_EQ(ra.steps, 12);

  TrainOptions crash = o;
  crash.inject_nan_at_step = 10;
  Trainer b(c, crash, modes.all.at("full"), pos_matrix(), data, data, b_dir.path);
  EXPECT_THROW(b.run(), StageError);
  TrainOptions eager = o;
  eager.step = StepKind::kEager;
  Trainer wrong(c, eager, modes.all.at("full"), pos_matrix(), data, data, b_dir.path);
  try {
    wrong.run();
    FAIL() << "a static step's checkpoint must not resume an eager run";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot resume from '" + (b_dir.path / "train_state.pt").string() +
                  "': it was written by the static or graph step and this run uses the eager "
                  "step; rerun with the step that wrote it (param step) or delete it to start over");
  }
  Trainer resumed(c, o, modes.all.at("full"), pos_matrix(), data, data, b_dir.path);
  const TrainResult rb = resumed.run();
  EXPECT_EQ(rb.resumed_from_step, 8);
  test::expect_same_weights(a.model(), resumed.model(), tolerance);
  if (tolerance == 0) {
    EXPECT_EQ(ra.train_loss, rb.train_loss);
    EXPECT_EQ(ra.val_ppl, rb.val_ppl);
    return;
  }
  for (const auto& [x, y] : {std::pair{&ra.train_loss, &rb.train_loss}, std::pair{&ra.val_ppl, &rb.val_ppl}}) {
    ASSERT_EQ(x->size(), y->size());
    for (std::size_t i = 0; i < x->size(); ++i) {
      EXPECT_EQ((*y)[i].first, (*x)[i].first);
      EXPECT_NEAR((*y)[i].second, (*x)[i].second, tolerance * std::abs((*x)[i].second));
    }
  }
}

}  // namespace

TEST(StaticStep, TrainerResumesItsStateAfterACrash) { expect_resume_after_crash("static", DeviceChoice::kCpu, 0); }

TEST(StaticStep, GraphStepResumesItsStateOnACudaDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_resume_after_crash("graph", DeviceChoice::kCuda, 1e-4);
}

TEST(StaticStep, TrainerChoosesAndRefusesSteps) {
  Modes modes;
  const auto data = examples(7);
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir d;
  auto make = [&](const std::string& step, const std::string& preset) {
    TrainOptions o = run_options(step);
    o.preset = parse_choice<Preset>(preset, "preset");
    return std::make_unique<Trainer>(c, o, modes.all.at("none"), pos_matrix(), data, data, d.path);
  };
  EXPECT_EQ(name_of(make("auto", "corrected")->step_kind()), "eager");  // on a CPU
  EXPECT_EQ(name_of(make("auto", "faithful")->step_kind()), "eager");
  auto message = [&](const std::string& step, const std::string& preset) -> std::string {
    try {
      make(step, preset);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message("static", "faithful"),
            "step static pads every batch to a fixed shape, which the faithful preset would count in its loss: use "
            "the corrected preset or step eager");
  EXPECT_EQ(message("graph", "corrected"),
            "step graph needs a CUDA device, not cpu (step static runs the same step without a graph)");
  EXPECT_EQ(message("fast", "corrected"), "unknown step 'fast'; steps: auto, eager, static, graph");
}

// output_precision bfloat16 (the CPU's vocabulary-blocked loss with bfloat16 products): the
// eager and static steps follow the float32 run closely but not exactly (the products see
// rounded operands), and each other as the float32 steps do; evaluation stays float32. The
// GPU's row chunks are refused, and so is a CPU without AVX512-BF16 or AMX.
TEST(StaticStep, Bf16OutputProductsFollowTheFloat32Run) {
  Modes modes;
  const auto data = examples(15, 12);
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  auto options = [](const std::string& step, OutputPrecision precision, std::int64_t chunk = 0) {
    TrainOptions o = run_options(step);
    o.loss_chunk_rows = chunk;
    o.output_precision = precision;
    return o;
  };
  test::TempDir d;
  auto make = [&](const TrainOptions& o, const std::string& dir) {
    return std::make_unique<Trainer>(c, o, modes.all.at("full"), pos_matrix(), data, data, d.path / dir);
  };
  if (!bf16_products_supported()) {
    EXPECT_THROW(make(options("eager", OutputPrecision::kBFloat16), "refused"), ConfigError);
    GTEST_SKIP() << "this CPU runs no bfloat16 products (" << bf16_products_backend() << "); the refusal was checked";
  }
  try {
    make(options("eager", OutputPrecision::kBFloat16, 8), "chunks");
    ADD_FAILURE() << "bfloat16 products with row chunks";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "output_precision bfloat16 runs in the CPU's vocabulary-blocked loss (device cpu, loss_chunk_rows 0); "
              "this run has device cpu and loss_chunk_rows 8");
  }
  const TrainResult f = make(options("eager", OutputPrecision::kFloat32), "f32")->run();
  const TrainResult b = make(options("eager", OutputPrecision::kBFloat16), "bf16")->run();
  const TrainResult s = make(options("static", OutputPrecision::kBFloat16), "bf16-static")->run();
  ASSERT_EQ(f.train_loss.size(), 8u);
  ASSERT_EQ(b.train_loss.size(), f.train_loss.size());
  ASSERT_EQ(s.train_loss.size(), f.train_loss.size());
  double largest = 0;
  for (std::size_t i = 0; i < f.train_loss.size(); ++i) {
    const double want = f.train_loss[i].second;
    EXPECT_NEAR(b.train_loss[i].second, want, 1e-2 * want) << "step " << i + 1;
    EXPECT_NEAR(s.train_loss[i].second, b.train_loss[i].second, 1e-5 * want) << "step " << i + 1;
    largest = std::max(largest, std::abs(b.train_loss[i].second - want));
  }
  EXPECT_GT(largest, 0.0) << "the bfloat16 run gave float32's losses exactly: its products were not bfloat16";
  ASSERT_EQ(b.val_ppl.size(), f.val_ppl.size());
  for (std::size_t i = 0; i < f.val_ppl.size(); ++i)
    EXPECT_NEAR(b.val_ppl[i].second, f.val_ppl[i].second, 1e-2 * f.val_ppl[i].second);
}

// output_precision tf32 is a CUDA device's: a CPU run is refused before any training, with
// what the CPU offers instead.
TEST(StaticStep, Tf32OutputProductsNeedACudaDevice) {
  Modes modes;
  const auto data = examples(6, 12);
  TrainOptions o = run_options("eager");
  o.output_precision = OutputPrecision::kTF32;
  test::TempDir d;
  try {
    Trainer(ModelConfig::preset("tiny", 200), o, modes.all.at("full"), pos_matrix(), data, data, d.path / "t");
    ADD_FAILURE() << "tf32 products on a CPU";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "output_precision tf32 needs a CUDA device (TF32 tensor cores); this run has device cpu (on a CPU: "
              "float32, or bfloat16 with AVX512-BF16 or AMX)");
  }
  EXPECT_FALSE(std::filesystem::exists(d.path / "t" / "model.pt"));
}
