// End-to-end: real pipelines run by the asaflow executable in a temporary directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

const char* kPipeline = R"(pipeline: e2e
stages:
  words:
    uses: dataset/text_files
    params: {paths: [corpus], format: plain}
  stats:
    uses: metric/corpus_stats
    needs: [words]
    params: {lowercase: false}
  lengths:
    uses: metric/sentence_lengths
    needs: [words]
  report:
    uses: reporter/markdown
    needs: [stats, lengths]
)";

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir.path / "corpus/a.txt", "The cat sat on the mat. The dog ate bread!\n\nA new paragraph here.\n");
    write_file(dir.path / "corpus/b.txt", "Another file, with words. And more words?\n");
    write_file(dir.path / "p.yaml", kPipeline);
  }
  CommandResult asaflow(const std::string& args, const std::string& env = "") {
    return run_asaflow(args, dir.path, env);
  }
  std::string fixtures() const { return "--plugin-dir '" + (fixture_dir() / "slow").string() + "'"; }
  TempDir dir;
};

std::string summary_line(const CommandResult& r) {
  for (const auto& l : lines_of(r.out)) {
    if (l.rfind("pipeline ", 0) == 0) return l.substr(0, l.rfind(" ("));
  }
  return "";
}

TEST_F(E2E, SecondRunIsAllCacheHits) {
  auto first = asaflow("run p.yaml");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(summary_line(first), "pipeline 'e2e': 4 stages: 4 ran, 0 cached, 0 failed, 0 skipped");
  auto second = asaflow("run p.yaml");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(summary_line(second), "pipeline 'e2e': 4 stages: 0 ran, 4 cached, 0 failed, 0 skipped");
  EXPECT_NE(second.out.find("report: "), std::string::npos);
  auto status = asaflow("status p.yaml");
  EXPECT_EQ(status.out, "cached    words\ncached    stats\ncached    lengths\ncached    report\n");
}

TEST_F(E2E, StatusBeforeAnyRunSaysNeverRun) {
  auto status = asaflow("status p.yaml");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out,
            "never run words\n"
            "stale     stats: upstream 'words' must run first\n"
            "stale     lengths: upstream 'words' must run first\n"
            "stale     report: upstream 'stats' must run first\n");
}

TEST_F(E2E, ChangedParamRerunsOnlyThatStageAndDependents) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  std::string text = read_file(dir.path / "p.yaml");
  text.replace(text.find("lowercase: false"), 16, "lowercase: true");
  write_file(dir.path / "p.yaml", text);

  auto why = asaflow("why stats -p p.yaml");
  ASSERT_EQ(why.exit_code, 0) << why.err;
  EXPECT_EQ(why.out, "stats: will run because:\n  - parameter 'lowercase' changed: false -> true\n");
  auto why_lengths = asaflow("why lengths -p p.yaml");
  EXPECT_NE(why_lengths.out.find("lengths: cached"), std::string::npos) << why_lengths.out;

  auto rerun = asaflow("run p.yaml");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(summary_line(rerun), "pipeline 'e2e': 4 stages: 2 ran, 2 cached, 0 failed, 0 skipped");
  EXPECT_NE(rerun.err.find("run      stats: parameter 'lowercase' changed: false -> true"), std::string::npos)
      << rerun.err;
  EXPECT_NE(rerun.err.find("cached   words"), std::string::npos);
  EXPECT_NE(rerun.err.find("cached   lengths"), std::string::npos);
  EXPECT_NE(rerun.err.find("run      report: output of input 'stats' changed"), std::string::npos) << rerun.err;
}

TEST_F(E2E, ChangedDataFileIsNamedByWhy) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  write_file(dir.path / "corpus/b.txt", "A changed file.\n");
  auto why = asaflow("why words -p p.yaml");
  EXPECT_NE(why.out.find("data of parameter 'paths' changed: "), std::string::npos) << why.out;
}

fs::path find_output(const fs::path& cache, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(cache / "objects")) {
    if (e.path().filename() == name) return e.path();
  }
  return {};
}

// The repro of the poisoned downstream entry: a cached upstream output is damaged at the
// same size, then a new downstream stage is added. It must not read the damaged bytes into
// an entry under a clean key: it fails, naming the damage and what to do, and nothing is
// cached for it; after `cache verify` evicts the upstream, the next run recomputes both.
TEST_F(E2E, DamagedUpstreamOutputIsNeverReadIntoANewEntry) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  fs::path corpus = find_output(dir.path / ".asaflow", "corpus.conllu");
  ASSERT_FALSE(corpus.empty());
  std::string text = read_file(corpus);
  text[text.size() - 2] = 'X';
  fs::permissions(corpus, fs::perms::owner_write, fs::perm_options::add);
  write_file(corpus, text);
  std::string yaml = read_file(dir.path / "p.yaml");
  yaml += "  lengths2:\n    uses: metric/sentence_lengths\n    needs: [words]\n    params: {min_tokens: 2}\n";
  write_file(dir.path / "p.yaml", yaml);

  auto poisoned = asaflow("run p.yaml");
  EXPECT_EQ(poisoned.exit_code, 2) << poisoned.err;
  EXPECT_TRUE(std::regex_search(poisoned.err,
                                std::regex("error: stage lengths2 failed: the cached output of 'words' is damaged: "
                                           "corpus.conllu was modified \\(sha256 [0-9a-f]{12} expected, [0-9a-f]{12} "
                                           "found\\); run `asaflow cache verify` to evict it, then rerun")))
      << poisoned.err;
  EXPECT_EQ(asaflow("cache verify p.yaml").exit_code, 1);  // evicts words
  auto rerun = asaflow("run p.yaml");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(summary_line(rerun), "pipeline 'e2e': 5 stages: 2 ran, 3 cached, 0 failed, 0 skipped");
  EXPECT_EQ(asaflow("cache verify p.yaml").exit_code, 0);
}

// Input directories with a file name that is not UTF-8, or a symbolic link loop: a clear
// one-line error with the name (bytes escaped), exit 2, and the next run says the same
// (before: an abort, or every later run failing with a raw JSON error).
TEST_F(E2E, NonUtf8FileNameAndLinkLoopAreClearErrors) {
  write_file(dir.path / "corpus" / "bad\xff.txt", "Words.\n");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = asaflow("run p.yaml --quiet");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("error: stage words failed: the file name '" + (dir.path / "corpus").string() +
                         "/bad\\xFF.txt' is not valid UTF-8: rename it"),
              std::string::npos)
        << r.err;
  }
  fs::remove(dir.path / "corpus" / "bad\xff.txt");
  fs::create_symlink("loop", dir.path / "corpus" / "loop");
  auto r = asaflow("run p.yaml --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: stage words failed: cannot read '" + (dir.path / "corpus/loop").string() +
                       "': Too many levels of symbolic links"),
            std::string::npos)
      << r.err;
}

TEST_F(E2E, TamperedArtifactIsCaughtByVerifyAndRecomputed) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  fs::path corpus = find_output(dir.path / ".asaflow", "corpus.conllu");
  ASSERT_FALSE(corpus.empty());
  std::string text = read_file(corpus);
  text[text.size() - 2] = 'X';  // same size: only re-hashing notices
  fs::permissions(corpus, fs::perms::owner_write, fs::perm_options::add);
  write_file(corpus, text);

  auto verify = asaflow("cache verify p.yaml");
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      verify.out, std::regex("damaged: entry [0-9a-f]{12} \\(stage words\\): corpus.conllu was modified \\(sha256 "
                             "[0-9a-f]{12} expected, [0-9a-f]{12} found\\); evicted, the next run recomputes it")))
      << verify.out;
  EXPECT_NE(verify.out.find(": 1 damaged\n"), std::string::npos) << verify.out;

  auto rerun = asaflow("run p.yaml");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  // The recomputed output is identical, so nothing downstream needs to run again.
  EXPECT_EQ(summary_line(rerun), "pipeline 'e2e': 4 stages: 1 ran, 3 cached, 0 failed, 0 skipped");
  EXPECT_NE(rerun.err.find("run      words: its cache entry is missing or incomplete"), std::string::npos);
  EXPECT_EQ(asaflow("cache verify p.yaml").exit_code, 0);
}

const char* kSlowPipeline = R"(pipeline: slow
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  slow: {uses: slow_copy, needs: [words], params: {sleep_ms: SLEEP}}
  after: {uses: metric/corpus_stats, needs: [words, slow]}
)";

std::string slow_pipeline(int sleep_ms) {
  std::string p = kSlowPipeline;
  p.replace(p.find("SLEEP"), 5, std::to_string(sleep_ms));
  return p;
}

// Waits until the slow stage is mid-computation: its temporary entry holds INCOMPLETE and
// the partial output slow_copy writes before sleeping (earlier stages have INCOMPLETE too).
bool wait_for_incomplete(const fs::path& cache, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(cache / "tmp", ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().filename() == "partial.txt" && fs::exists(it->path().parent_path().parent_path() / "INCOMPLETE")) {
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(E2E, KillNineMidStageThenRerunCompletes) {
  write_file(dir.path / "s.yaml", slow_pipeline(4000));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::chdir(dir.path.c_str()) != 0) ::_exit(126);
    std::string plugin_dir = (fixture_dir() / "slow").string();
    ::setenv("ASAFLOW_PLUGIN_INDEX", "", 1);
    ::execl(asaflow_binary().c_str(), "asaflow", "run", "s.yaml", "--quiet", "--plugin-dir", plugin_dir.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(wait_for_incomplete(dir.path / ".asaflow", 20.0));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  // The half-written entry is never reported as cached.
  auto status_out = asaflow("status s.yaml " + fixtures());
  EXPECT_NE(status_out.out.find("never run slow"), std::string::npos) << status_out.out;
  for (const auto& e : fs::recursive_directory_iterator(dir.path / ".asaflow/objects")) {
    EXPECT_NE(e.path().filename(), "INCOMPLETE") << e.path();
  }
  write_file(dir.path / "s.yaml", slow_pipeline(4000));
  auto rerun = asaflow("run s.yaml " + fixtures());
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(summary_line(rerun), "pipeline 'slow': 3 stages: 2 ran, 1 cached, 0 failed, 0 skipped");
  // gc removes the abandoned temporary entry of the killed run.
  auto gc = asaflow("gc p.yaml");
  EXPECT_NE(gc.out.find(", 1 abandoned temporary entries and "), std::string::npos) << gc.out;
}

TEST_F(E2E, ConcurrentRunsComputeAStageOnce) {
  write_file(dir.path / "s.yaml", slow_pipeline(1500));
  const std::string log = (dir.path / "runs.log").string();
  const std::string env = "ASAFLOW_TEST_RUN_LOG='" + log + "'";
  CommandResult a, b;
  std::thread ta([&] { a = asaflow("run s.yaml " + fixtures(), env); });
  std::thread tb([&] { b = asaflow("run s.yaml " + fixtures(), env); });
  ta.join();
  tb.join();
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(read_file(log), "start slow\nend slow\n");
  const std::string both = a.err + b.err;
  EXPECT_NE(both.find("computed by a concurrent run"), std::string::npos) << both;
}

TEST_F(E2E, FailedStageSkipsDependentsAndIndependentStagesGoOn) {
  write_file(dir.path / "f.yaml", R"(pipeline: fail
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  bad: {uses: slow_copy, needs: [words], params: {fail: true}}
  after_bad: {uses: metric/corpus_stats, needs: [words, bad]}
  stats: {uses: metric/corpus_stats, needs: [words]}
)");
  auto r = asaflow("run f.yaml " + fixtures());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(summary_line(r), "pipeline 'fail': 4 stages: 2 ran, 0 cached, 1 failed, 1 skipped");
  EXPECT_NE(r.err.find("error: stage bad failed: slow_copy failed on purpose"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped  after_bad: upstream 'bad' failed"), std::string::npos) << r.err;
  // Nothing of the failed stage is left behind as a cache entry.
  EXPECT_TRUE(find_output(dir.path / ".asaflow", "partial.txt").empty());
  // status says why the cell is not cached: its last failure, with the error.
  auto status = asaflow("status f.yaml " + fixtures());
  EXPECT_TRUE(std::regex_search(
      status.out, std::regex("\nstale     bad: failed last time \\([0-9T:Z-]+\\): slow_copy failed on purpose\n")))
      << status.out;

  auto fast = asaflow("run f.yaml --fail-fast " + fixtures());
  EXPECT_EQ(fast.exit_code, 1);
  EXPECT_NE(fast.err.find("skipped  after_bad: upstream 'bad' failed"), std::string::npos) << fast.err;
}

TEST_F(E2E, FailFastStartsNothingNewAfterAFailure) {
  write_file(dir.path / "f.yaml", R"(pipeline: fail
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  bad: {uses: slow_copy, needs: [words], params: {fail: true}}
  stats: {uses: metric/corpus_stats, needs: [words]}
)");
  auto r = asaflow("run f.yaml --fail-fast " + fixtures());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(summary_line(r), "pipeline 'fail': 3 stages: 1 ran, 0 cached, 1 failed, 1 skipped");
  EXPECT_NE(r.err.find("skipped  stats: not started: an earlier stage failed (--fail-fast)"), std::string::npos)
      << r.err;
}

TEST_F(E2E, IndependentStagesOverlapWithJobs) {
  write_file(dir.path / "j.yaml", R"(pipeline: jobs
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  one: {uses: slow_copy, needs: [words], params: {sleep_ms: 600, tag: one}}
  two: {uses: slow_copy, needs: [words], params: {sleep_ms: 600, tag: two}}
)");
  const std::string log = (dir.path / "runs.log").string();
  auto r = asaflow("run j.yaml -j 2 " + fixtures(), "ASAFLOW_TEST_RUN_LOG='" + log + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto events = lines_of(read_file(log));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].substr(0, 5), "start");
  EXPECT_EQ(events[1].substr(0, 5), "start");  // both started before either ended
}

TEST_F(E2E, ForceRecomputesAndForceDownstreamRecomputesDependents) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  auto forced = asaflow("run p.yaml --force words");
  EXPECT_EQ(summary_line(forced), "pipeline 'e2e': 4 stages: 1 ran, 3 cached, 0 failed, 0 skipped");
  EXPECT_NE(forced.err.find("run      words: forced (--force)"), std::string::npos);
  auto all = asaflow("run p.yaml --force words --force-downstream");
  EXPECT_EQ(summary_line(all), "pipeline 'e2e': 4 stages: 4 ran, 0 cached, 0 failed, 0 skipped");
  auto unknown = asaflow("run p.yaml --force wrods");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err, "error: --force: no stage or cell named 'wrods' in pipeline 'e2e' (did you mean 'words'?)\n");
}

TEST_F(E2E, DryRunComputesNothing) {
  auto dry = asaflow("run p.yaml --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("never run words"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path / ".asaflow/state/e2e"));
  EXPECT_TRUE(find_output(dir.path / ".asaflow", "corpus.conllu").empty());
}

TEST_F(E2E, MatrixCellsHaveStableIds) {
  write_file(dir.path / "m.yaml", R"(stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  stats: {uses: metric/corpus_stats, needs: [words], matrix: {lowercase: [true, false]}}
)");
  ASSERT_EQ(asaflow("run m.yaml").exit_code, 0);
  auto status = asaflow("status m.yaml");
  EXPECT_EQ(status.out, "cached    words\ncached    stats[lowercase=true]\ncached    stats[lowercase=false]\n");
}

TEST_F(E2E, GcRemovesEntriesNoStageRefersTo) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  std::string text = read_file(dir.path / "p.yaml");
  text.replace(text.find("lowercase: false"), 16, "lowercase: true");
  write_file(dir.path / "p.yaml", text);
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  // -n first: it says what it would remove and removes nothing (before, -n was ignored).
  auto dry = asaflow("gc -n p.yaml");
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would remove entry "), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("dry run: would remove 2 unreferenced entries"), std::string::npos) << dry.out;
  auto gc = asaflow("gc p.yaml");
  ASSERT_EQ(gc.exit_code, 0);
  EXPECT_NE(gc.out.find("removed 2 unreferenced entries"), std::string::npos) << gc.out;
  EXPECT_EQ(asaflow("gc p.yaml").out.substr(0, 30), "removed 0 unreferenced entries");
  auto again = asaflow("run p.yaml");
  EXPECT_EQ(summary_line(again), "pipeline 'e2e': 4 stages: 0 ran, 4 cached, 0 failed, 0 skipped");
}

// Scratch (a stage's resumable state) left beside a committed entry is garbage; the scratch
// of an interrupted run is what a rerun resumes from: kept and counted unless --checkpoints.
TEST_F(E2E, GcCollectsLeftoverScratchAndKeepsCheckpointsUnlessAsked) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  const fs::path cache = dir.path / ".asaflow";
  const std::string committed = find_output(cache, "corpus.conllu").parent_path().parent_path().filename().string();
  const std::string interrupted(64, 'a');
  write_file(cache / "scratch" / committed / "train_state.pt", "left over");
  write_file(cache / "scratch" / interrupted / "train_state.pt", std::string(2 * 1024 * 1024, 'w'));
  auto gc = asaflow("gc p.yaml");
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed scratch " + committed.substr(0, 12) + " (its entry is committed)"), std::string::npos)
      << gc.out;
  EXPECT_NE(gc.out.find("kept 1 checkpoints of interrupted runs (2.0 MiB)"), std::string::npos) << gc.out;
  EXPECT_FALSE(fs::exists(cache / "scratch" / committed));
  EXPECT_TRUE(fs::exists(cache / "scratch" / interrupted / "train_state.pt"));
  auto dry = asaflow("gc -n --checkpoints p.yaml");
  EXPECT_NE(dry.out.find("would remove checkpoint aaaaaaaaaaaa (an interrupted run's)"), std::string::npos) << dry.out;
  EXPECT_TRUE(fs::exists(cache / "scratch" / interrupted / "train_state.pt"));
  ASSERT_EQ(asaflow("gc --checkpoints p.yaml").exit_code, 0);
  EXPECT_FALSE(fs::exists(cache / "scratch" / interrupted));
}

// What runs asaflow as a user who may read the store but not write it: `nobody` through
// setpriv when the tests run as root (root writes anything), else the current user after
// the store is made read-only. Empty when neither can be arranged.
std::string as_reader_only(const fs::path& dir) {
  if (::geteuid() != 0) {
    EXPECT_EQ(std::system(("chmod -R a-w '" + (dir / ".asaflow").string() + "'").c_str()), 0);
    return " ";
  }
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                           fs::perms::others_exec);
  const std::string prefix = "HOME='" + dir.string() + "/nohome' setpriv --reuid=65534 --regid=65534 --clear-groups";
  const std::string probe =
      "env " + prefix + " test -x '" + asaflow_binary().string() + "' -a -r '" + dir.string() + "/p.yaml'";
  return std::system(probe.c_str()) == 0 ? prefix : "";
}

// A read-only store serves a fully cached run (before, exit 1: state was rewritten on every
// hit), and verify says what it could not do instead of claiming an eviction.
TEST_F(E2E, ReadOnlyStoreServesACachedRunAndVerifySaysWhatItCouldNotDo) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  const fs::path corpus = find_output(dir.path / ".asaflow", "corpus.conllu");
  std::string text = read_file(corpus);
  const std::string reader = as_reader_only(dir.path);
  if (reader.empty()) GTEST_SKIP() << "cannot run as a user without write access here (setpriv to nobody failed)";
  auto run = asaflow("run p.yaml", reader);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(summary_line(run), "pipeline 'e2e': 4 stages: 0 ran, 4 cached, 0 failed, 0 skipped");
  // Damage an entry (as its owner), then verify as the reader: found, but not evictable.
  text[text.size() - 2] = 'X';
  fs::permissions(corpus, fs::perms::owner_write, fs::perm_options::add);
  write_file(corpus, text);
  auto verify = asaflow("cache verify p.yaml", reader);
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      verify.out,
      std::regex("damaged: entry [0-9a-f]{12} \\(stage words\\): corpus.conllu was modified .*; NOT evicted")))
      << verify.out;
  EXPECT_TRUE(std::regex_search(
      verify.out,
      std::regex("could not: entry [0-9a-f]{12} \\(stage words\\): could not be evicted \\(.*\\); remove .* by hand")))
      << verify.out;
  EXPECT_NE(verify.out.find("verified 4 entries"), std::string::npos) << verify.out;
  EXPECT_EQ(std::system(("chmod -R u+w '" + dir.path.string() + "'").c_str()), 0);
}

// A file verify cannot read is said, and the other entries are still checked (before, the
// walk stopped at the first unreadable file).
TEST_F(E2E, VerifyGoesOnPastAnUnreadableFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make a file unreadable to another user (runs in CI)";
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  const fs::path corpus = find_output(dir.path / ".asaflow", "corpus.conllu");
  const std::string reader = as_reader_only(dir.path);
  if (reader.empty()) GTEST_SKIP() << "cannot run as another user here (setpriv to nobody failed)";
  fs::permissions(corpus, fs::perms::owner_read | fs::perms::owner_write);
  auto verify = asaflow("cache verify p.yaml", reader);
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      verify.out,
      std::regex(
          "could not: entry [0-9a-f]{12} \\(stage words\\): corpus.conllu could not be read \\(.*\\); not checked")))
      << verify.out;
  EXPECT_NE(verify.out.find("verified 4 entries in"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find(": 0 damaged, 1 things could not be done"), std::string::npos) << verify.out;
}

TEST(Quickstart, RunsOnTheBrownCorpus) {
  if (!fs::exists(brown_dir())) GTEST_SKIP() << "Brown corpus not fetched (scripts/fetch-data.sh)";
  TempDir cache;
  // The README's pipeline itself, every stage, at a smaller size set through its vars: 24 steps
  // instead of 150 (about a sixth of the training time). The full size is what README command 1
  // runs; here the point is that every stage runs on real data and the report has every section.
  auto r = run_asaflow(
      "run pipelines/quickstart.yaml --quiet --set steps=24 --set eval_every=12"
      " --set eval_batches=4 --cache-dir '" +
          cache.path.string() + "'",
      source_dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, fs::path> reports;
  for (const auto& l : lines_of(r.out)) {
    if (const fs::path file = report_path(l); !file.empty()) reports[file.filename().string()] = file;
  }
  ASSERT_TRUE(reports.count("report.md")) << r.out;
  ASSERT_TRUE(reports.count("report.html")) << r.out;
  std::string md = read_file(reports["report.md"]);
  std::map<std::string, std::string> pinned;  // those scripts/fetch-data.sh verified: the manifest's
  for (const auto& l : lines_of(read_file(source_dir() / "third_party/data-packages.tsv"))) {
    std::istringstream fields(l);
    std::string name, version;
    if (!l.empty() && l[0] != '#' && fields >> name >> version) pinned[name] = version;
  }
  std::string packages = "data packages: ";  // by name, as the report lists them
  for (const auto& [name, version] : pinned) packages += (packages.back() == ' ' ? "" : ", ") + name + "@" + version;
  for (const char* section : {"## Configuration",
                              "## Results",
                              "### Training: full vs none (same seeds)",
                              "| Val PPL (final) |",
                              "### Validation PPL against n-gram floors on the same tokens",
                              "| trigram interpolated Kneser-Ney |",
                              "### H6: attention mass of the baseline on ASA-allowed pairs, against controls",
                              "| random, key-UPOS-matched |",
                              "| random, distance-matched |",
                              "Step 0 (%)",
                              "### Sparsity",
                              "this corpus's UPOS frequencies",
                              "### Profiling: one training step, modes timed alternately",
                              "### Verdicts",
                              "How to read a verdict",
                              "## Per-run details",
                              "## Raw output",
                              "## Notes and anomalies",
                              packages.c_str(),
                              "tiny, 24 steps"}) {  // the title follows the --set size
    EXPECT_NE(md.find(section), std::string::npos) << section;
  }
  // Models this short are worse than the n-gram floors: PPL and H6 get no verdict but
  // "untestable", with the floor named in the reason.
  for (const char* verdict : {"- **untestable**: ASA reaches a lower validation PPL than the baseline",
                              "- **untestable**: H6: a baseline trained without ASA"}) {
    const auto at = md.find(verdict);
    ASSERT_NE(at, std::string::npos) << verdict;
    const std::string line = md.substr(at, md.find('\n', at) - at);
    EXPECT_NE(line.find("does not beat the trigram interpolated Kneser-Ney floor"), std::string::npos) << line;
  }
}

}  // namespace

// `run PIPELINE TARGET...` runs the targets and what they need, nothing else; an unknown
// target is an error with a did-you-mean.
TEST_F(E2E, TargetsRunWithTheirAncestorsOnly) {
  auto some = asaflow("run p.yaml lengths");
  ASSERT_EQ(some.exit_code, 0) << some.err;
  EXPECT_EQ(summary_line(some), "pipeline 'e2e': 2 stages: 2 ran, 0 cached, 0 failed, 0 skipped");
  auto status = asaflow("status p.yaml");
  EXPECT_NE(status.out.find("never run stats"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("stale     report: upstream 'stats' must run first"), std::string::npos) << status.out;
  auto all = asaflow("run p.yaml");
  EXPECT_EQ(summary_line(all), "pipeline 'e2e': 4 stages: 2 ran, 2 cached, 0 failed, 0 skipped");
  auto bad = asaflow("run p.yaml lenghts");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: no stage or cell named 'lenghts' in pipeline 'e2e' (did you mean 'lengths'?)\n");
}

// A pin keeps an earlier experiment's results through gc after the pipeline changed;
// unpinned, gc may remove them.
TEST_F(E2E, PinnedResultsSurviveGcUntilUnpinned) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  auto pin = asaflow("pin p.yaml first-try");
  ASSERT_EQ(pin.exit_code, 0) << pin.err;
  EXPECT_EQ(pin.out,
            "pinned 4 cells of pipeline 'e2e' as 'first-try': gc keeps them until `asaflow unpin p.yaml first-try`\n");
  std::string text = read_file(dir.path / "p.yaml");
  text.replace(text.find("lowercase: false"), 16, "lowercase: true");
  write_file(dir.path / "p.yaml", text);
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  EXPECT_NE(asaflow("gc p.yaml").out.find("removed 0 unreferenced entries"), std::string::npos);
  EXPECT_EQ(asaflow("pin p.yaml").out.rfind("first-try  pipeline 'e2e', 4 cells, ", 0), 0u);
  EXPECT_EQ(asaflow("pin p.yaml bad/name").err,
            "error: pin name 'bad/name' must be letters, digits, '.', '_' or '-' (at most 100)\n");
  auto unknown = asaflow("unpin p.yaml first-tyr");
  EXPECT_EQ(unknown.err, "error: asaflow unpin: no pin 'first-tyr' in " + (dir.path / ".asaflow").string() +
                             " (did you mean 'first-try'?)\n");
  // An unreadable pin stops gc: what it protects is unknown, so nothing is deleted.
  write_file(dir.path / ".asaflow/pins/broken.json", "{\"keys\": ");
  auto stopped = asaflow("gc p.yaml");
  EXPECT_EQ(stopped.exit_code, 2);
  EXPECT_EQ(stopped.err, "error: cannot read the pin '" + (dir.path / ".asaflow/pins/broken.json").string() +
                             "': fix or remove it before gc\n");
  fs::remove(dir.path / ".asaflow/pins/broken.json");
  ASSERT_EQ(asaflow("unpin p.yaml first-try").exit_code, 0);
  EXPECT_NE(asaflow("gc p.yaml").out.find("removed 2 unreferenced entries"), std::string::npos);
}
