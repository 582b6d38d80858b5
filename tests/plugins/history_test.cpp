// The metrics history: reporter/history appends each run once; asaflow metrics and
// asaflow compare read it.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.hpp"

using namespace asaflow::test;

TEST(History, AppendsOncePerRunAndCommandsReadIt) {
  TempDir d;
  write_file(d.path / "corpus/a.txt", "The cat sat. Then the dog ran away quickly.\n");
  const char* yaml = R"(stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  stats: {uses: metric/corpus_stats, needs: [words], params: {lowercase: LOWER}}
  history: {uses: reporter/history, needs: [stats], params: {db: metrics.sqlite}}
)";
  auto pipeline = [&](const char* lower) {
    std::string y = yaml;
    y.replace(y.find("LOWER"), 5, lower);
    write_file(d.path / "p.yaml", y);
  };
  pipeline("false");
  ASSERT_EQ(run_asaflow("run p.yaml --quiet", d.path).exit_code, 0);
  ASSERT_EQ(run_asaflow("run p.yaml --quiet --force history", d.path).exit_code, 0);  // same run: nothing added
  pipeline("true");
  ASSERT_EQ(run_asaflow("run p.yaml --quiet", d.path).exit_code, 0);

  auto runs = run_asaflow("compare --db metrics.sqlite", d.path);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  auto ids = lines_of(runs.out);
  ASSERT_EQ(ids.size(), 2u) << runs.out;
  const std::string a = ids[0].substr(0, 12), b = ids[1].substr(0, 12);

  auto metrics = run_asaflow("metrics --db metrics.sqlite", d.path);
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(metrics.out.find("..."), std::string::npos) << metrics.out;  // labels are never cut
  EXPECT_NE(metrics.out.find("types "), std::string::npos) << metrics.out;
  // types: 10 case-sensitive ("The", "the"), 9 lower-cased; both runs are in the history.
  bool found = false;
  for (const auto& l : lines_of(metrics.out)) {
    if (l.rfind("types ", 0) == 0) {
      found = true;
      EXPECT_NE(l.find(" 2"), std::string::npos) << l;  // two runs
      // corpus_stats declares no better side for a count: no "best", not a guess from the name.
      EXPECT_NE(l.find(" n/a "), std::string::npos) << l;
    }
  }
  EXPECT_TRUE(found);

  auto diff = run_asaflow("compare --db metrics.sqlite " + a + " " + b, d.path);
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  bool types_row = false;
  for (const auto& l : lines_of(diff.out)) {
    if (l.rfind("types ", 0) == 0) {
      types_row = true;
      EXPECT_NE(l.find("-1"), std::string::npos) << l;
    }
  }
  EXPECT_TRUE(types_row) << diff.out;

  auto bad = run_asaflow("compare --db metrics.sqlite " + a.substr(0, 11) + "x " + b, d.path);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: asaflow compare: no run '" + a.substr(0, 11) + "x' in metrics.sqlite (did you mean '" + a +
                         "'?); `asaflow compare` lists the runs\n");
  // The database is an index of what the store holds: lost, it is rebuilt from the
  // reporter's entries (their rows.json), with the same runs and values.
  const std::string before = run_asaflow("metrics --db metrics.sqlite", d.path).out;
  std::filesystem::remove(d.path / "metrics.sqlite");
  auto rebuilt = run_asaflow("metrics --rebuild .asaflow --db metrics.sqlite", d.path);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_EQ(rebuilt.out.rfind("imported ", 0), 0u) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find(" from 2 history entries into metrics.sqlite"), std::string::npos) << rebuilt.out;
  // The same runs and figures (a run's rows carry the date of its last computation, so a
  // forced rerun of the reporter may reorder runs made within a second).
  auto sorted_lines = [](const std::string& text) {
    auto l = lines_of(text);
    std::sort(l.begin(), l.end());
    return l;
  };
  auto runs_again = run_asaflow("compare --db metrics.sqlite", d.path);
  ASSERT_EQ(lines_of(runs_again.out).size(), 2u) << runs_again.out;
  EXPECT_EQ(sorted_lines(run_asaflow("compare --db metrics.sqlite " + a + " " + b, d.path).out),
            sorted_lines(diff.out));
  EXPECT_EQ(lines_of(run_asaflow("metrics --db metrics.sqlite", d.path).out).size(), lines_of(before).size());
  auto missing = run_asaflow("metrics --db nowhere.sqlite", d.path);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err,
            "error: no metrics history at 'nowhere.sqlite' (a pipeline with reporter/history writes it)\n");
}

TEST(History, ReporterAndCommandsShareTheRepositorysDatabase) {
  // A repository with its pipeline in a subdirectory: the reporter (from the pipeline's
  // directory) and the commands (from another subdirectory) find one database.
  TempDir d;
  ASSERT_EQ(run_command("git init -q . && mkdir -p exp/corpus notes", d.path).exit_code, 0);
  write_file(d.path / "exp/corpus/a.txt", "The cat sat.\n");
  write_file(d.path / "exp/p.yaml",
             "stages:\n  words: {uses: dataset/text_files, params: {paths: [corpus]}}\n"
             "  stats: {uses: metric/corpus_stats, needs: [words]}\n"
             "  history: {uses: reporter/history, needs: [stats]}\n");
  ASSERT_EQ(run_asaflow("run p.yaml --quiet", d.path / "exp").exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(d.path / "reports/metrics.sqlite"));
  auto metrics = run_asaflow("metrics", d.path / "notes");
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_NE(metrics.out.find("tokens "), std::string::npos) << metrics.out;
}

TEST(History, CommandsPrintTheirHelpWithoutAHistory) {
  TempDir d;  // no metrics.sqlite here: help must not need one
  auto metrics = run_asaflow("metrics --help", d.path);
  EXPECT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_EQ(metrics.out,
            "usage: asaflow metrics [--db FILE] [--targets FILE] [--rebuild CACHE_DIR]: baseline / current best / "
            "target per metric\n\n"
            "options:\n  --db (default " +
                (d.path / "reports/metrics.sqlite").string() +
                ")\n"
                "  --rebuild CACHE_DIR (re-import every history entry of that store into --db)\n"
                "  --targets (default " +
                (d.path / "reports/targets.tsv").string() + ")\n");
  auto compare = run_asaflow("compare -h --db x.sqlite", d.path);
  EXPECT_EQ(compare.exit_code, 0) << compare.err;
  EXPECT_EQ(compare.out.rfind("usage: asaflow compare RUN RUN [--db FILE]: ", 0), 0u) << compare.out;
}

TEST(History, UsageListsThePluginCommands) {
  TempDir d;
  auto help = run_asaflow("--help", d.path);
  EXPECT_EQ(help.exit_code, 0) << help.err;
  const auto lines = lines_of(help.out);
  auto line_of = [&](const std::string& start) {
    for (const auto& l : lines)
      if (l.rfind(start, 0) == 0) return l;
    return std::string();
  };
  // Each plugin command with its plugin's own summary, under the built-in commands.
  EXPECT_EQ(
      line_of("  metrics "),
      "  metrics [--db FILE] [--targets FILE] [--rebuild CACHE_DIR]   baseline / current best / target per metric")
      << help.out;
  EXPECT_EQ(line_of("  compare "), "  compare RUN RUN [--db FILE]   two runs side by side (no RUN: list runs)")
      << help.out;
  EXPECT_LT(help.out.find("  gc PIPELINE"), help.out.find("plugin commands")) << help.out;
  auto bare = run_asaflow("", d.path);  // no command: the usage goes to stderr, exit 2
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_TRUE(bare.out.empty()) << bare.out;
  EXPECT_NE(bare.err.find("  metrics [--db FILE]"), std::string::npos) << bare.err;
}
