// The LibTorch model: exact parameter counts (spec 1.2), the bonding tensors against the
// worked example of spec 2.12, plain attention in mode none, attention probabilities, the
// fused loss against cross_entropy (lm_loss_test.cpp), and the trainer's determinism, resume and NaN stop.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/step_profile.hpp"
#include "asaflow/model/trained_model.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/model/training_step.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "mode_fixtures.hpp"
#include "pos_embedding.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::model;
namespace fs = std::filesystem;

namespace {

using test::expect_same_weights;
using test::Modes;
using test::pos_matrix;
using test::small_options;
using test::synthetic;

const nlp::AsaTables& tables() { return test::asa_tables(); }

std::int64_t count_parameters(AsaTransformer& m) {
  std::int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

TEST(Model, ExactParameterCountsOfSpec12) {
  const std::map<std::string, std::pair<std::int64_t, std::int64_t>> spec = {{"tiny", {6829696, 6432896}},
                                                                             {"small", {16025344, 12865792}},
                                                                             {"medium", {44646912, 25731584}},
                                                                             {"large", {123653376, 38597376}}};
  for (const auto& [size, counts] : spec) {
    ModelConfig c = ModelConfig::preset(size);
    EXPECT_EQ(c.parameter_count(), counts.first) << size;
    EXPECT_EQ(c.embedding_parameters(), counts.second) << size;
    EXPECT_EQ(c.d_head(), 64) << size;
    AsaTransformer m(c);
    EXPECT_EQ(count_parameters(m), counts.first) << size;  // tied output: the embedding counts once
  }
  EXPECT_THROW(ModelConfig::preset("huge"), ConfigError);
}

TEST(Model, OutputProjectionIsTiedAndInitIsXavier) {
  torch::manual_seed(3);
  AsaTransformer m(ModelConfig::preset("tiny"));
  auto h = torch::randn({1, 2, 128});
  EXPECT_TRUE(torch::allclose(m->logits(h), torch::matmul(h, m->output_weight().t())));
  // Xavier-uniform bound for the [V, d] embedding: sqrt(6 / (V + d)).
  const double bound = std::sqrt(6.0 / (50257.0 + 128.0));
  EXPECT_LE(m->output_weight().abs().max().item<double>(), bound);
  EXPECT_GT(m->output_weight().abs().max().item<double>(), 0.9 * bound);
  EXPECT_NE(m->output_weight()[50256].abs().sum().item<double>(), 0.0);  // the padding row is overwritten too
}

// The token embedding's gradient (sparse on the CPU, where it adds into the tied weight's
// dense output-layer gradient) is the sum of its rows' gradients per id, repeated ids
// adding up, with nothing for pad tokens; the tied weight's gradient ends up dense.
TEST(Model, EmbeddingGradientAddsIntoTheOutputLayersAndSkipsPads) {
  torch::manual_seed(5);
  ModelConfig c = ModelConfig::preset("tiny");
  c.vocab = 40;
  c.pad_id = 3;
  AsaTransformer m(c);
  const auto ids = torch::tensor({5, 3, 7, 5, 3, 9, 9, 1}, torch::kLong).view({2, 4});
  const auto& w = m->output_weight();
  const auto r = torch::randn({2, 4, c.d_model});
  const auto s = torch::randn({c.vocab, c.d_model});
  const auto e = m->embed(ids);
  EXPECT_TRUE(torch::equal(e, w.index_select(0, ids.view({-1})).view({2, 4, -1})));
  ((e * r).sum() + (w * s).sum()).backward();
  const auto g = w.grad();
  ASSERT_TRUE(g.defined());
  ASSERT_FALSE(g.is_sparse());
  auto expected = s.clone();
  const auto flat = ids.view({-1});
  for (std::int64_t i = 0; i < flat.size(0); ++i) {
    const auto id = flat[i].item<std::int64_t>();
    if (id != c.pad_id) expected[id] += r.view({-1, c.d_model})[i];
  }
  EXPECT_TRUE(torch::allclose(g, expected, 1e-5, 1e-6)) << (g - expected).abs().max().item<double>();
  EXPECT_TRUE(torch::equal(g[c.pad_id], s[c.pad_id]));  // pads: the output layer's gradient only
}

// Spec 2.12 in tensor form: the full-mode mask and compat equal the word-level rules.
TEST(Bonding, WorkedExampleAsTensors) {
  static auto wn = nlp::WordNet::load(nlp::WordNet::default_dir());
  nlp::Annotator annotator(wn, std::make_shared<nlp::AsaTables>(tables()));
  const std::vector<std::string> words = {"The", "company", "said", "it",    "hired", "John",
                                          "and", "he",      "ate",  "bread", "."};
  const std::vector<std::string> tags = {"DET",   "NOUN", "VERB", "PRON", "VERB", "PROPN",
                                         "CCONJ", "PRON", "VERB", "NOUN", "PUNCT"};
  const auto T = std::int64_t(words.size());
  std::vector<int> pos;
  std::vector<nlp::FeatureSet> feat, req;
  auto pos_t = torch::zeros({1, T}, torch::kInt64);
  auto feat_t = torch::zeros({1, T, 15}), req_t = torch::zeros({1, T, 15});
  for (std::int64_t i = 0; i < T; ++i) {
    pos.push_back(upos_id(tags[std::size_t(i)]));
    const auto& a = annotator.annotate(words[std::size_t(i)], pos.back());
    feat.push_back(a.features);
    req.push_back(a.requirements);
    pos_t[0][i] = pos.back();
    for (int f = 0; f < 15; ++f) {
      feat_t[0][i][f] = (a.features >> f) & 1;
      req_t[0][i][f] = (a.requirements >> f) & 1;
    }
  }
  TokenAnnotations tokens{pos_t, feat_t, req_t};
  Modes modes;
  for (const char* mode : {"full", "pos_only", "features_only"}) {
    BondingTensors b = modes.all.at(mode)->bonding(tokens, pos_matrix());
    nlp::Bonding expected = nlp::bonding(mode, pos, feat, req, tables());
    for (std::int64_t i = 0; i < T; ++i) {
      for (std::int64_t j = 0; j < T; ++j) {
        const bool allowed = b.allowed.defined() ? b.allowed[0][i][j].item<bool>() : true;
        EXPECT_EQ(allowed, expected.allowed(std::size_t(i), std::size_t(j))) << mode << " " << i << "," << j;
        const float score = b.scores.defined() ? b.scores[0][i][j].item<float>() : 0.0f;
        EXPECT_FLOAT_EQ(score, expected.score(std::size_t(i), std::size_t(j))) << mode << " " << i << "," << j;
      }
    }
  }
  BondingTensors none = modes.all.at("none")->bonding(tokens, pos_matrix());
  EXPECT_FALSE(none.allowed.defined());
  EXPECT_FALSE(none.scores.defined());
  // pos_only is exactly the POS matrix plus the diagonal.
  auto p = modes.all.at("pos_only")->bonding(tokens, pos_matrix()).allowed[0];
  for (std::int64_t i = 0; i < T; ++i)
    for (std::int64_t j = 0; j < T; ++j)
      EXPECT_EQ(p[i][j].item<bool>(),
                i == j || tables().pos_matrix[std::size_t(pos[std::size_t(i)])][std::size_t(pos[std::size_t(j)])]);
}

TEST(Bonding, BiasAppliesScoresMaskPaddingAndCausalityInOrder) {
  auto allowed = torch::ones({1, 3, 3}, torch::kBool);
  allowed[0][2][0] = false;
  auto scores = torch::full({1, 3, 3}, 0.5);
  auto valid = torch::tensor({true, true, false}).unsqueeze(0);
  auto hard = attention_bias({allowed, scores}, valid, BiasOptions{2.0, true, 10.0}).additive[0][0];  // [3,3]
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(hard[0][0].item<float>(), 1.0f);  // alpha * score
  EXPECT_EQ(hard[0][1].item<float>(), -inf);  // causal
  EXPECT_EQ(hard[2][0].item<float>(), -inf);  // hard block
  EXPECT_EQ(hard[2][2].item<float>(), -inf);  // key padding
  // A query row with every key masked gets a finite bias and a zero keep factor.
  auto dead = allowed.clone();
  dead[0][1][0] = false;
  dead[0][1][1] = false;  // row 1: key 0 blocked, key 1 itself blocked (no diagonal here), key 2 causal
  auto b = attention_bias({dead, torch::Tensor()}, torch::ones({1, 3}, torch::kBool), BiasOptions{});
  ASSERT_TRUE(b.keep_rows.defined());
  EXPECT_EQ(b.keep_rows[0][0][1][0].item<float>(), 0.0f);
  EXPECT_EQ(b.keep_rows[0][0][0][0].item<float>(), 1.0f);
  EXPECT_TRUE(torch::isfinite(b.additive[0][0][1]).all().item<bool>());
  auto soft = attention_bias({allowed, scores}, valid, BiasOptions{1.0, false, 10.0}).additive[0][0];
  EXPECT_FLOAT_EQ(soft[2][0].item<float>(), 0.5f - 10.0f);  // soft penalty
  auto none = attention_bias({}, valid, BiasOptions{}).additive[0][0];
  EXPECT_EQ(none[1][0].item<float>(), 0.0f);
  EXPECT_EQ(none[1][2].item<float>(), -inf);
}

TEST(Model, ModeNoneIsPlainCausalAttentionAndProbabilitiesAreReturned) {
  torch::manual_seed(5);
  Attention attn(8, 2, 0.0);
  attn->eval();
  auto x = torch::randn({2, 5, 8});
  auto valid = torch::ones({2, 5}, torch::kBool);
  std::vector<torch::Tensor> probs;
  auto out = attn(x, attention_bias({}, valid, BiasOptions{}), &probs);
  // The same attention written out by hand.
  auto params = attn->named_parameters();
  auto lin = [&](const char* n, const torch::Tensor& t) {
    return torch::matmul(t, params[std::string(n) + ".weight"].t()) + params[std::string(n) + ".bias"];
  };
  auto heads = [](const torch::Tensor& t) { return t.view({2, 5, 2, 4}).transpose(1, 2); };
  auto s = torch::matmul(heads(lin("q", x)), heads(lin("k", x)).transpose(-2, -1)) / 2.0;
  s = s.masked_fill(torch::ones({5, 5}, torch::kBool).triu(1), -std::numeric_limits<float>::infinity());
  auto p = torch::softmax(s, -1);
  auto expected = lin("o", torch::matmul(p, heads(lin("v", x))).transpose(1, 2).reshape({2, 5, 8}));
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
  ASSERT_EQ(probs.size(), 1u);
  EXPECT_EQ(probs[0].sizes(), (std::vector<std::int64_t>{2, 2, 5, 5}));
  EXPECT_TRUE(torch::allclose(probs[0].sum(-1), torch::ones({2, 2, 5})));
  EXPECT_TRUE(torch::allclose(probs[0], p, 1e-5, 1e-6));
  // A whole model returns one [B,H,T,T] tensor per layer.
  AsaTransformer m(ModelConfig::preset("tiny", 100));
  m->eval();
  std::vector<torch::Tensor> layers;
  m->hidden(torch::randint(0, 100, {1, 7}), attention_bias({}, torch::ones({1, 7}, torch::kBool), BiasOptions{}),
            &layers);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[1].sizes(), (std::vector<std::int64_t>{1, 2, 7, 7}));
}

TEST(Batches, FaithfulPaddingCountsPadTargetsCorrectedIgnoresThem) {
  nlp::PreprocessedSplit s;
  s.examples.push_back(nlp::Example{{5, 6, 7, 8}, {0, 1, 0, 14}, {1, 0, 0, 0}, {0, 2, 0, 0}, {0, 1, 2, 3}});
  s.examples.push_back(nlp::Example{{9, 10}, {0, 0}, {0, 0}, {0, 0}, {0, 1}});
  auto faithful = make_batch(s, {0, 1}, BatchOptions{true, 50256}, torch::kCPU);
  EXPECT_EQ(faithful.ids[1][3].item<std::int64_t>(), 0);  // pads are id 0 ("!")
  EXPECT_EQ(faithful.loss_targets, 6);                    // the 2 pad targets are counted
  auto corrected = make_batch(s, {0, 1}, BatchOptions{false, 50256}, torch::kCPU);
  EXPECT_EQ(corrected.loss_targets, 4);                            // 3 + 1 real targets
  EXPECT_EQ(corrected.tokens.pos[1][3].item<std::int64_t>(), 16);  // pad UPOS is X
  EXPECT_EQ(corrected.tokens.features[0][0][0].item<float>(), 1.0f);
  EXPECT_EQ(corrected.tokens.requirements[0][1][1].item<float>(), 1.0f);
  EXPECT_FALSE(corrected.key_valid[1][2].item<bool>());
}

TEST(Trainer, ResumeAfterACrashEndsWithTheSameWeights) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  Modes modes;
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir a_dir, b_dir;
  Trainer a(c, small_options(), modes.all.at("full"), pos_matrix(), train, valid, a_dir.path);
  TrainResult ra = a.run();
  EXPECT_EQ(ra.steps, 12);
  EXPECT_EQ(ra.steps_per_epoch, 7);
  ASSERT_EQ(ra.val_ppl.size(), 2u);
  EXPECT_EQ(ra.train_loss.size(), 6u);

  TrainOptions crash = small_options();
  crash.inject_nan_at_step = 10;
  Trainer b(c, crash, modes.all.at("full"), pos_matrix(), train, valid, b_dir.path);
  try {
    b.run();
    FAIL() << "the injected NaN must stop training";
  } catch (const StageError& e) {
    EXPECT_EQ(std::string(e.what()), "training loss became NaN at step 10; the last good checkpoint is kept in '" +
                                         (b_dir.path / "train_state.pt").string() + "' (lower lr or check the data)");
  }
  Trainer resumed(c, small_options(), modes.all.at("full"), pos_matrix(), train, valid, b_dir.path);
  TrainResult rb = resumed.run();
  EXPECT_EQ(rb.resumed_from_step, 8);
  expect_same_weights(a.model(), resumed.model());
  EXPECT_EQ(ra.val_ppl, rb.val_ppl);
  EXPECT_EQ(ra.train_loss, rb.train_loss);
  EXPECT_EQ(ra.final_val_ppl, rb.final_val_ppl);
}

TEST(Trainer, SameSeedSameRunDifferentSeedDifferentRun) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  Modes modes;
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir d1, d2, d3;
  TrainOptions o = small_options();
  o.checkpoint_every = 0;
  Trainer a(c, o, modes.all.at("none"), pos_matrix(), train, valid, d1.path);
  Trainer b(c, o, modes.all.at("none"), pos_matrix(), train, valid, d2.path);
  auto ra = a.run(), rb = b.run();
  expect_same_weights(a.model(), b.model());
  EXPECT_EQ(ra.final_val_ppl, rb.final_val_ppl);
  o.seed = 12;
  Trainer c3(c, o, modes.all.at("none"), pos_matrix(), train, valid, d3.path);
  EXPECT_NE(c3.run().final_val_ppl, ra.final_val_ppl);
}

TEST(Trainer, ScheduleAfterWarmupIsCosineToZeroOrConstant) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  Modes modes;
  std::map<LrSchedule, std::vector<double>> lrs;
  for (LrSchedule schedule : {LrSchedule::kCosine, LrSchedule::kConstant}) {
    test::TempDir d;
    TrainOptions o = small_options();
    o.checkpoint_every = 0;
    o.log_every = 1;
    o.warmup_steps = 3;
    o.lr = 2e-3;
    o.schedule = schedule;
    TrainHooks hooks;
    hooks.on_point = [&](const std::string& series, std::int64_t, double v) {
      if (series == "lr") lrs[schedule].push_back(v);
    };
    Trainer(ModelConfig::preset("tiny", 200), o, modes.all.at("none"), pos_matrix(), train, valid, d.path, hooks).run();
  }
  for (const auto& [schedule, lr] : lrs) {
    ASSERT_EQ(lr.size(), 12u) << name_of(schedule);
    for (int t = 0; t < 3; ++t) EXPECT_DOUBLE_EQ(lr[t], 2e-3 * (t + 1) / 3) << "warmup, step " << t;
  }
  EXPECT_DOUBLE_EQ(lrs[LrSchedule::kCosine][3], 2e-3);  // the decay starts from the peak
  for (std::size_t t = 3; t < 12; ++t) {
    EXPECT_DOUBLE_EQ(lrs[LrSchedule::kConstant][t], 2e-3) << t;
    if (t > 3) {
      EXPECT_LT(lrs[LrSchedule::kCosine][t], lrs[LrSchedule::kCosine][t - 1]) << t;
    }
  }
  EXPECT_LT(lrs[LrSchedule::kCosine].back(), 0.05 * 2e-3);  // the last step's rate is near 0
  EXPECT_EQ(parse_choice<LrSchedule>("constant", "schedule"), LrSchedule::kConstant);
}

TEST(Trainer, LearnsAndPresetsAverageDifferently) {
  const auto train = synthetic(20, 1);
  Modes modes;
  test::TempDir d1, d2;
  TrainOptions o = small_options();
  o.max_steps = 40;
  o.eval_every = 40;
  o.lr = 3e-3;
  o.checkpoint_every = 0;
  Trainer t(ModelConfig::preset("tiny", 200), o, modes.all.at("full"), pos_matrix(), train, train, d1.path);
  const double before = t.evaluate();
  const double after = t.run().final_val_ppl;
  EXPECT_LT(after, 0.5 * before);  // it learns the training data
  o.preset = Preset::kFaithful;
  Trainer f(ModelConfig::preset("tiny", 200), o, modes.all.at("full"), pos_matrix(), train, train, d2.path);
  EXPECT_NE(f.evaluate(), before);  // batch-mean over pad-including batches differs
}

}  // namespace

namespace {

TEST(StepProfile, TimesEveryPhaseOfTheTimedStepsOnly) {
  Modes modes;
  int calls = 0;
  const StepProfileOptions o{2, 16, /*warmup=*/2, /*repeats=*/3};
  const auto p =
      profile_steps(ModelConfig::preset("tiny"), *modes.all.at("full"), pos_matrix(), o, torch::kCPU, [&] { ++calls; });
  EXPECT_EQ(calls, 5);  // every step, warm-up included, reports progress
  for (const auto* series : {&p.mask_ms, &p.forward_ms, &p.backward_ms, &p.optimizer_ms, &p.step_ms}) {
    ASSERT_EQ(series->size(), 3u);  // the warm-up steps are not timed
    for (double ms : *series) EXPECT_GE(ms, 0.0);
  }
  for (std::size_t i = 0; i < 3; ++i) {  // a step is its four phases, back to back
    const double phases = p.mask_ms[i] + p.forward_ms[i] + p.backward_ms[i] + p.optimizer_ms[i];
    EXPECT_NEAR(p.step_ms[i], phases, 1e-6 * p.step_ms[i]);
    EXPECT_GT(p.forward_ms[i], 0.0);
  }
  EXPECT_GT(p.peak_memory_mb, 0.0);
}

TEST(StepProfile, SyntheticBatchesAreSeededAndInRange) {
  const auto a = synthetic_split(3, 20, 7), b = synthetic_split(3, 20, 7), c = synthetic_split(3, 20, 8);
  ASSERT_EQ(a.examples.size(), 3u);
  EXPECT_EQ(a.max_length, 20u);
  EXPECT_EQ(a.examples[2].ids, b.examples[2].ids);
  EXPECT_NE(a.examples[0].ids, c.examples[0].ids);
  for (const auto& x : a.examples) {
    ASSERT_EQ(x.ids.size(), 20u);
    for (std::size_t t = 0; t < 20; ++t) {
      EXPECT_LT(x.ids[t], 50257);
      EXPECT_LT(x.pos[t], 17);
      EXPECT_EQ(x.word_index[t], std::int32_t(t));
    }
  }
}

TEST(StepProfile, MedianAndSampleSd) {
  EXPECT_EQ(median_of({}), 0.0);
  EXPECT_EQ(median_of({3, 1, 2}), 2.0);
  EXPECT_EQ(median_of({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(sample_sd({5}), 0.0);
  EXPECT_NEAR(sample_sd({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7.0), 1e-12);
}

}  // namespace

namespace {

std::shared_ptr<ModelMode> pos_embed_mode() {
  struct Collector : Registrar {
    void add(std::shared_ptr<Component> c) override { mode = std::dynamic_pointer_cast<ModelMode>(c); }
    std::shared_ptr<ModelMode> mode;
  } collector;
  plugins::register_pos_embedding(collector);
  return collector.mode;
}

// The pos_embed control arm: the baseline's parameters get the baseline's initial values
// (the runs stay paired by seed), plus a [17, d] embedding of the tags added to the input.
// scale_embedding multiplies the token rows by sqrt(d_model) before the positions are
// added: the model is then the unscaled one whose embedding rows are sqrt(d) times larger.
// A trained model's config.json brings the choice back (absent: the reference's, unscaled).
TEST(Model, ScaledEmbeddingIsTheUnscaledModelWithRowsTimesSqrtD) {
  ModelConfig plain = ModelConfig::preset("tiny", 200), scaled = plain;
  scaled.scale_embedding = true;
  torch::manual_seed(5);
  AsaTransformer a(scaled);
  torch::manual_seed(5);
  AsaTransformer b(plain);
  torch::manual_seed(5);
  AsaTransformer c(plain);
  {
    torch::NoGradGuard no_grad;
    b->named_parameters()["embedding.weight"].mul_(std::sqrt(128.0));
  }
  for (auto* m : {&a, &b, &c}) (*m)->eval();
  const auto ids = torch::randint(1, 200, {2, 9});  // no pad (id 0)
  const auto bias = attention_bias({}, torch::ones({2, 9}, torch::kBool), BiasOptions{});
  EXPECT_TRUE(torch::allclose(a->hidden(ids, bias), b->hidden(ids, bias), 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(a->hidden(ids, bias), c->hidden(ids, bias), 1e-2, 1e-3));

  test::TempDir d;
  std::ofstream(d.path / "config.json") << R"({"size": "tiny", "vocab": 200, "pad_id": 0, "scale_embedding": true})";
  EXPECT_TRUE(trained_config(d.path).scale_embedding);
  std::ofstream(d.path / "config.json") << R"({"size": "tiny", "vocab": 200, "pad_id": 0})";
  EXPECT_FALSE(trained_config(d.path).scale_embedding);
}

TEST(PosEmbedding, SharedParametersStartAsTheBaselinesAndTheTagsChangeTheOutput) {
  ModelConfig base = ModelConfig::preset("tiny", 200), tagged = base;
  tagged.pos_embedding = true;
  EXPECT_EQ(tagged.parameter_count() - base.parameter_count(), 17 * 128);
  torch::manual_seed(5);
  AsaTransformer a(base);
  torch::manual_seed(5);
  AsaTransformer b(tagged);
  EXPECT_EQ(count_parameters(b), tagged.parameter_count());
  expect_same_weights(a, b);  // every parameter of a, by name, equals b's
  ASSERT_TRUE(b->named_parameters().contains("pos_embedding.weight"));
  a->eval();
  b->eval();
  auto ids = torch::randint(0, 200, {1, 6});
  auto pos = torch::tensor({{0, 1, 2, 3, 4, 5}}, torch::kInt64);
  const auto bias = attention_bias({}, torch::ones({1, 6}, torch::kBool), BiasOptions{});
  EXPECT_THROW(b->hidden(ids, bias), ConfigError);  // the tags are required
  EXPECT_FALSE(torch::allclose(a->hidden(ids, bias), b->hidden(ids, bias, nullptr, pos)));
  EXPECT_TRUE(torch::allclose(a->hidden(ids, bias), a->hidden(ids, bias, nullptr, pos)));  // ignored without
}

TEST(PosEmbedding, TheTrainerBuildsAndTrainsTheEmbedding) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  test::TempDir d;
  TrainOptions o = small_options();
  o.checkpoint_every = 0;
  Trainer t(ModelConfig::preset("tiny", 200), o, pos_embed_mode(), pos_matrix(), train, valid, d.path);
  EXPECT_TRUE(t.config().pos_embedding);
  const auto before = t.model()->named_parameters()["pos_embedding.weight"].clone();
  t.run();
  EXPECT_FALSE(torch::equal(before, t.model()->named_parameters()["pos_embedding.weight"]));
}

// Modes timed alternately: one series per mode, of the timed repeats only.
TEST(StepProfile, InterleavedModesEachGetTheirSeries) {
  Modes modes;
  int calls = 0;
  const StepProfileOptions o{2, 16, /*warmup=*/1, /*repeats=*/3};
  const auto p =
      profile_interleaved(ModelConfig::preset("tiny"), {modes.all.at("none").get(), modes.all.at("full").get()},
                          pos_matrix(), o, torch::kCPU, [&] { ++calls; });
  EXPECT_EQ(calls, 8);  // (1 + 3) steps x 2 modes
  ASSERT_EQ(p.size(), 2u);
  for (const auto& m : p) {
    EXPECT_EQ(m.step_ms.size(), 3u);
    EXPECT_GT(m.peak_memory_mb, 0.0);
  }
}

}  // namespace

namespace {

// A checkpoint damaged after a crash (bytes flipped) is refused: the run starts over, says
// so, and ends as an uninterrupted run does. Before, it was resumed and trained on.
TEST(Trainer, ADamagedCheckpointIsRefusedAndTheRunStartsOver) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  Modes modes;
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir a_dir, b_dir;
  Trainer a(c, small_options(), modes.all.at("full"), pos_matrix(), train, valid, a_dir.path);
  const TrainResult ra = a.run();
  TrainOptions crash = small_options();
  crash.inject_nan_at_step = 10;
  EXPECT_THROW(Trainer(c, crash, modes.all.at("full"), pos_matrix(), train, valid, b_dir.path).run(), StageError);
  const fs::path state = b_dir.path / "train_state.pt";
  ASSERT_TRUE(fs::exists(state));
  ASSERT_TRUE(intact(state));
  {  // flip bytes in the middle, keeping the size
    std::fstream f(state, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(fs::file_size(state) / 2));
    f.write("\xde\xad\xbe\xef", 4);
  }
  EXPECT_FALSE(intact(state));
  std::vector<std::string> log;
  TrainHooks hooks;
  hooks.log = [&](const std::string& line) { log.push_back(line); };
  Trainer resumed(c, small_options(), modes.all.at("full"), pos_matrix(), train, valid, b_dir.path, hooks);
  const TrainResult rb = resumed.run();
  EXPECT_EQ(rb.resumed_from_step, 0);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("is damaged (its SHA-256 differs"), std::string::npos) << log.front();
  expect_same_weights(a.model(), resumed.model());
  EXPECT_EQ(ra.val_ppl, rb.val_ppl);
}

// A resumed run's training time includes the time before the crash (kept in the checkpoint).
TEST(Trainer, ResumedRunCountsTheTrainingTimeBeforeTheCrash) {
  const auto train = synthetic(20, 1), valid = synthetic(6, 2);
  Modes modes;
  const ModelConfig c = ModelConfig::preset("tiny", 200);
  test::TempDir d;
  TrainOptions crash = small_options();
  crash.inject_nan_at_step = 10;
  EXPECT_THROW(Trainer(c, crash, modes.all.at("full"), pos_matrix(), train, valid, d.path).run(), StageError);
  torch::serialize::InputArchive archive;
  archive.load_from((d.path / "train_state.pt").string());
  torch::Tensor before;
  ASSERT_TRUE(archive.try_read("train_seconds", before)) << "the checkpoint keeps no training time";
  EXPECT_GT(before.item<double>(), 0.0);
  const TrainResult r = Trainer(c, small_options(), modes.all.at("full"), pos_matrix(), train, valid, d.path).run();
  EXPECT_EQ(r.resumed_from_step, 8);
  EXPECT_GT(r.train_seconds, before.item<double>());
}

}  // namespace

// Weight decay's parameters, shared by the eager and static steps: the faithful preset
// decays every parameter (the reference), the corrected one the matrices only.
TEST(Model, DecayGroupsFollowThePreset) {
  AsaTransformer m(ModelConfig::preset("tiny", 200));
  const auto names = m->named_parameters();
  const DecayGroups faithful = DecayGroups::of(m, Preset::kFaithful);
  const DecayGroups corrected = DecayGroups::of(m, Preset::kCorrected);
  ASSERT_EQ(faithful.params.size(), names.size());
  ASSERT_EQ(corrected.params.size(), names.size());
  std::size_t exempt = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(faithful.params[i].is_same(names[i].value())) << names[i].key();
    EXPECT_TRUE(faithful.decays[i]) << names[i].key();
    const bool matrix = names[i].value().dim() >= 2;
    EXPECT_EQ(corrected.decays[i], matrix) << names[i].key();
    exempt += !matrix;
  }
  EXPECT_GT(exempt, 0u);  // biases and LayerNorm exist, and are exempt
  EXPECT_EQ(corrected.where(false).size(), exempt);
  EXPECT_EQ(corrected.where(true).size() + exempt, names.size());
  EXPECT_TRUE(faithful.where(false).empty());
}
