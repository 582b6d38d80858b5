#include "asaflow/pipeline.hpp"

#include <gtest/gtest.h>

#include "asaflow/component.hpp"
#include "asaflow/error.hpp"
#include "asaflow/plugin_host.hpp"
#include "corpus_stats.hpp"
#include "reporters.hpp"
#include "sentence_lengths.hpp"
#include "test_support.hpp"
#include "text_files.hpp"

using namespace asaflow;
namespace fs = std::filesystem;

namespace {

class Loader : public ::testing::Test {
 protected:
  void SetUp() override {
    host.add_static("text_files", "1.0.0", plugins::register_text_files);
    host.add_static("corpus_stats", "1.0.0", plugins::register_corpus_stats);
    host.add_static("template_metric", "1.0.0", plugins::register_sentence_lengths);
    host.add_static("reporters", "1.0.0", plugins::register_reporters);
    test::write_file(dir.path / "data/a.txt", "Some words.\n");
  }
  Pipeline load(const std::string& yaml, const std::map<std::string, std::string>& overrides = {}) {
    test::write_file(dir.path / "p.yaml", yaml);
    PipelineVars vars;
    vars.builtin["data_dir"] = (dir.path / "data").string();
    vars.overrides = overrides;
    return load_pipeline(dir.path / "p.yaml", host, vars);
  }
  std::vector<std::string> errors(const std::string& yaml, const std::map<std::string, std::string>& overrides = {}) {
    try {
      load(yaml, overrides);
    } catch (const ConfigError& e) {
      return e.diagnostics();
    }
    return {};
  }
  PluginHost host;
  test::TempDir dir;
};

TEST_F(Loader, TypedParamsDefaultsAndResolvedPaths) {
  Pipeline p = load(R"(pipeline: demo
stages:
  words: {uses: dataset/text_files, params: {paths: ["${data_dir}"], max_files: 5}}
  stats: {uses: metric/corpus_stats, needs: words}
)");
  EXPECT_EQ(p.name, "demo");
  ASSERT_EQ(p.cells.size(), 2u);
  const StageCell& words = p.cells[0];
  EXPECT_EQ(words.params.get_int("max_files"), 5);
  EXPECT_EQ(words.params.get_string("format"), "plain");  // default filled in
  EXPECT_EQ(words.params.get_strings("paths"), std::vector<std::string>{(dir.path / "data").string()});
  EXPECT_EQ(p.cells[1].deps, std::vector<std::size_t>{0});
  EXPECT_FALSE(p.cells[1].params.get_bool("lowercase"));
}

TEST_F(Loader, RelativePathsResolveAgainstThePipelineDirectory) {
  Pipeline p = load("stages:\n  words: {uses: dataset/text_files, params: {paths: [data/a.txt]}}\n");
  EXPECT_EQ(p.cells[0].params.get_strings("paths")[0], (dir.path / "data/a.txt").string());
}

TEST_F(Loader, MatrixExpandsIntoCellsWithValueDerivedIds) {
  Pipeline p = load(R"(stages:
  words: {uses: dataset/text_files, params: {paths: [data]}, matrix: {max_files: [1, 2]}}
  stats: {uses: metric/corpus_stats, needs: [words], matrix: {lowercase: [false, true]}}
  lengths: {uses: metric/sentence_lengths, needs: [words], matrix: {min_tokens: [3]}}
)");
  std::vector<std::string> ids;
  for (const auto& c : p.cells) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"words[max_files=1]", "words[max_files=2]", "stats[lowercase=false]",
                                           "stats[lowercase=true]", "lengths[min_tokens=3]"}));
  // No shared matrix key: each downstream cell needs every upstream cell.
  EXPECT_EQ(p.cells[2].deps, (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(p.cells[3].params.get_bool("lowercase"));
}

TEST_F(Loader, CellIdsAreStableWhenValuesAreAdded) {
  Pipeline a = load("stages:\n  s: {uses: metric/sentence_lengths, matrix: {min_tokens: [1, 2]}}\n");
  Pipeline b = load("stages:\n  s: {uses: metric/sentence_lengths, matrix: {min_tokens: [5, 1, 2]}}\n");
  EXPECT_NE(b.find_cell(a.cells[0].id), nullptr);
  EXPECT_NE(b.find_cell(a.cells[1].id), nullptr);
  EXPECT_EQ(cell_id("train", {{"seed", "1"}, {"mode", "full"}}), "train[mode=full,seed=1]");
}

TEST_F(Loader, SharedMatrixKeysPairCellsOneToOne) {
  Pipeline p = load(R"(stages:
  words: {uses: dataset/text_files, params: {paths: [data]}, matrix: {max_files: [1, 2]}}
  copy: {uses: dataset/text_files, needs: [words], params: {paths: [data]}, matrix: {max_files: [1, 2]}}
)");
  ASSERT_EQ(p.cells.size(), 4u);
  EXPECT_EQ(p.cells[2].id, "copy[max_files=1]");
  EXPECT_EQ(p.cells[2].deps, std::vector<std::size_t>{0});
  EXPECT_EQ(p.cells[3].deps, std::vector<std::size_t>{1});
}

TEST_F(Loader, ReportsEveryErrorAtOnceWithLocations) {
  auto errs = errors(R"(stages:
  words: {uses: dataset/text_files, params: {paths: [data], formt: plain}}
  stats: {uses: metric/corpus_stats, needs: [wrds], params: {lowercase: 7}}
)");
  const std::string f = (dir.path / "p.yaml").string();
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0], f + ":2:61: unknown parameter 'formt' for dataset/text_files (did you mean 'format'?) "
                         "[stages.words.params.formt]");
  EXPECT_EQ(
      errs[1],
      f + ":3:73: parameter 'lowercase' expects a boolean (true or false), got '7' [stages.stats.params.lowercase]");
  EXPECT_EQ(errs[2],
            f + ":3:46: stage 'stats' needs unknown stage 'wrds' (did you mean 'words'?) [stages.stats.needs]");
}

TEST_F(Loader, EnvironmentVariablesAndUnsetOnes) {
  ::setenv("ASAFLOW_LOADER_TEST_DIR", (dir.path / "data").c_str(), 1);
  Pipeline p =
      load("stages:\n  w: {uses: dataset/text_files, params: {paths: [\"${env:ASAFLOW_LOADER_TEST_DIR}\"]}}\n");
  EXPECT_EQ(p.cells[0].params.get_strings("paths")[0], (dir.path / "data").string());
  auto errs = errors("stages:\n  w: {uses: dataset/text_files, params: {paths: [\"${env:ASAFLOW_NOT_SET_X}\"]}}\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("environment variable 'ASAFLOW_NOT_SET_X' is not set"), std::string::npos);
}

TEST_F(Loader, SetOverridesAVariableBeforeItIsSubstituted) {
  const std::string yaml = R"(vars:
  n: 5
  name: "files-${n}"
stages:
  w: {uses: dataset/text_files, params: {paths: [data], max_files: "${n}", name_regex: "${name}"}}
)";
  Pipeline plain = load(yaml);
  EXPECT_EQ(plain.cells[0].params.get_int("max_files"), 5);
  Pipeline set = load(yaml, {{"n", "2"}});
  EXPECT_EQ(set.cells[0].params.get_int("max_files"), 2);
  EXPECT_EQ(set.cells[0].params.get_string("name_regex"), "files-2");  // later vars see the override
  // The override is checked like any value: a bad one is reported where the variable is used.
  auto bad = errors(yaml, {{"n", "-1"}});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_NE(bad[0].find("parameter 'max_files' = -1 is out of range"), std::string::npos) << bad[0];
}

TEST_F(Loader, SetNamingNoVariableIsAnError) {
  auto errs = errors("vars: {steps: 3}\nstages:\n  s: {uses: metric/sentence_lengths}\n", {{"step", "1"}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], (dir.path / "p.yaml").string() +
                         ":1:7: --set step=1: the pipeline defines no variable 'step' (did you mean 'steps'?) [vars]");
}

TEST_F(Loader, MissingFileIsAClearError) {
  PipelineVars vars;
  try {
    load_pipeline(dir.path / "nope.yaml", host, vars);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read pipeline file '" + (dir.path / "nope.yaml").string() + "': no such file");
  }
}

}  // namespace

// Components that declare splits and a defaulted path, for the checks `validate` makes
// before anything runs (issue 14, point 7).
class SplitSource : public StageComponent {
 public:
  SplitSource()
      : StageComponent(ComponentInfo::of("dataset", "split_source", "1.0.0")
                           .describe("gives the splits it is told")
                           .with_params({ParamSpec::strings("splits", {}, "the splits")})
                           .producing_splits([](const Params& p) { return p.get_strings("splits"); })) {}

 protected:
  void execute(StageContext&) const override {}
};

class SplitReader : public StageComponent {
 public:
  SplitReader()
      : StageComponent(
            ComponentInfo::of("stage", "split_reader", "1.0.0")
                .describe("reads one split")
                .with_params({ParamSpec::string("split", "valid", "the split"),
                              ParamSpec::path("table", "a table").optional_with("/nonexistent/asaflow/table.tsv")})
                .reading_splits([](const Params& p) { return std::vector<std::string>{p.get_string("split")}; })) {}

 protected:
  void execute(StageContext&) const override {}
};

void register_split_components(Registrar& r) {
  r.add(std::make_shared<SplitSource>());
  r.add(std::make_shared<SplitReader>());
}

TEST_F(Loader, ASplitAStageReadsMustComeFromItsInputs) {
  host.add_static("split_test", "1.0.0", register_split_components);
  const std::string table = (dir.path / "data/a.txt").string();
  // Through a stage that declares nothing (corpus_stats passes its input's splits on).
  EXPECT_TRUE(errors("stages:\n  d: {uses: dataset/split_source, params: {splits: [train, valid]}}\n"
                     "  s: {uses: metric/corpus_stats, needs: d}\n"
                     "  r: {uses: split_reader, needs: s, params: {table: " +
                     table + "}}\n")
                  .empty());
  auto e = errors(
      "stages:\n  d: {uses: dataset/split_source, params: {splits: [train]}}\n"
      "  s: {uses: metric/corpus_stats, needs: d}\n"
      "  r: {uses: split_reader, needs: s, params: {table: " +
      table + "}}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("p.yaml:4:6: stage 'r' reads the 'valid' split, which its inputs will not hold: 'd' "
                      "(dataset/split_source, splits=[train]) gives train"),
            std::string::npos)
      << e[0];
  // Two datasets: the union of their splits.
  EXPECT_TRUE(errors("stages:\n  a: {uses: dataset/split_source, params: {splits: [train]}}\n"
                     "  b: {uses: dataset/split_source, params: {splits: [valid]}}\n"
                     "  r: {uses: split_reader, needs: [a, b], params: {table: " +
                     table + "}}\n")
                  .empty());
  // A dataset that declares nothing: not known, not checked.
  EXPECT_TRUE(errors("stages:\n  w: {uses: dataset/text_files, params: {paths: [\"${data_dir}\"]}}\n"
                     "  r: {uses: split_reader, needs: w, params: {split: test, table: " +
                     table + "}}\n")
                  .empty());
  // A matrix over the split read: one error for the cell whose split is missing.
  e = errors(
      "stages:\n  d: {uses: dataset/split_source, params: {splits: [train, valid]}}\n"
      "  r: {uses: split_reader, needs: d, matrix: {split: [valid, test]}, params: {table: " +
      table + "}}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("reads the 'test' split"), std::string::npos) << e[0];
}

TEST_F(Loader, ADefaultPathThatDoesNotExistIsAnError) {
  host.add_static("split_test", "1.0.0", register_split_components);
  auto e = errors(
      "stages:\n  d: {uses: dataset/split_source, params: {splits: [valid]}}\n"
      "  r: {uses: split_reader, needs: d}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(
      e[0].find("p.yaml:3:6: parameter 'table' of stage/split_reader defaults to '/nonexistent/asaflow/table.tsv', "
                "which does not exist"),
      std::string::npos)
      << e[0];
}
