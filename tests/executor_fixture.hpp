// What the executor tests share (tests/slurm_test.cpp, tests/process_executor_test.cpp): a
// corpus, the slow fixture plugin, drivers started in the background, the run's summary
// line, and the check that a sweep computed by an executor is the local run's, cell for
// cell.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.hpp"

namespace asaflow::test {

// One slow cell after the dataset, sleeping SLEEP ms; fast is a quick independent one.
inline const char* kLongPipeline = R"(pipeline: long
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  fast: {uses: stage/slow_copy, needs: [words], params: {sleep_ms: 100, tag: fast}}
  slow: {uses: stage/slow_copy, needs: [words], params: {sleep_ms: SLEEP, tag: slow}}
)";

// words -> stats x 2 (matrix) -> slow x 2 (matrix, sleeping `sleep_ms`) -> report: six
// cells, four in a matrix; `slow_extra` is one more line of slow's (resources, say).
inline std::string sweep_pipeline(int sleep_ms, const std::string& slow_extra = "") {
  return R"(pipeline: sweep
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  stats: {uses: metric/corpus_stats, needs: [words], matrix: {lowercase: [true, false]}}
  slow:
    uses: stage/slow_copy
    needs: [stats]
    params: {sleep_ms: )" +
         std::to_string(sleep_ms) + R"(}
    matrix: {tag: [a, b]}
)" + (slow_extra.empty() ? "" : "    " + slow_extra + "\n") +
         "  report: {uses: reporter/markdown, needs: [slow]}\n";
}

// `pipeline` with its SLEEP replaced by `sleep_ms`.
inline std::string with_sleep(std::string pipeline, int sleep_ms) {
  pipeline.replace(pipeline.find("SLEEP"), 5, std::to_string(sleep_ms));
  return pipeline;
}

// "pipeline 'NAME': N stages: ..." without its time.
inline std::string summary(const CommandResult& r) {
  for (const auto& l : lines_of(r.out))
    if (l.rfind("pipeline ", 0) == 0) return l.substr(0, l.rfind(" ("));
  return "";
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir.path / "corpus/a.txt", "The cat sat on the mat. The dog ate bread!\n\nA new paragraph.\n");
    write_file(dir.path / "corpus/b.txt", "Another file, with words. And more words?\n");
  }
  // The executor's own environment ("NAME=value ..."), besides the log of stage starts.
  virtual std::string executor_env() const { return ""; }
  std::string env() const {
    return executor_env() + " ASAFLOW_TEST_RUN_LOG='" + (dir.path / "runs.log").string() + "'";
  }
  std::string plugins() const { return " --plugin-dir '" + (fixture_dir() / "slow").string() + "'"; }
  CommandResult asaflow(const std::string& args) { return run_asaflow(args + plugins(), dir.path, env()); }
  nlohmann::json show(const std::string& pipeline, const std::string& cell, const std::string& store) {
    const auto r = asaflow("show " + pipeline + " '" + cell + "' --json --cache-dir " + store);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  // A driver on `pipeline` with `options` (the executor among them), store S, in the
  // background, its output in driver.out and driver.err; its pid.
  pid_t start_driver(const std::string& pipeline, const std::string& options) {
    const std::string command = "exec env " + env() + " ASAFLOW_PLUGIN_INDEX= '" + asaflow_binary().string() +
                                "' run " + pipeline + " " + options + " --quiet --cache-dir S" + plugins() +
                                " >driver.out 2>driver.err";
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir.path.c_str()) != 0) ::_exit(126);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  }
  // A driver on long.yaml (slow sleeping `sleep_ms`), once fast has committed and slow has
  // started; -1 (and a failure) when it never got there.
  pid_t start_long_run(int sleep_ms, const std::string& options) {
    write_file(dir.path / "long.yaml", with_sleep(kLongPipeline, sleep_ms));
    const pid_t driver = start_driver("long.yaml", options);
    if (wait_for([&] { return count_in_log("end fast") == 1 && count_in_log("start slow") == 1; }, 60)) return driver;
    ADD_FAILURE() << "slow never started: " << read_file(dir.path / "driver.err");
    ::kill(driver, SIGKILL);
    ::waitpid(driver, nullptr, 0);
    return -1;
  }
  // The exit status of a driver that exits (-1 when a signal ended it).
  static int exit_status(pid_t driver) {
    int status = 0;
    ::waitpid(driver, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Waits for `pred` for up to `seconds`.
  template <typename Pred>
  static bool wait_for(Pred pred, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int count_in_log(const std::string& line) {
    int n = 0;
    for (const auto& l : lines_of(read_file(dir.path / "runs.log"))) n += l == line;
    return n;
  }

  // The six-cell sweep `pipeline` (words, stats x 2, slow x 2, report) run with `executor`
  // and `options` into store S gives, cell for cell, the keys and the bytes of a local run
  // into L; every cell computed in a job of its own, which completed; each store's entries
  // are cache hits for the other way of running.
  void expect_sweep_equals_local_run(const std::string& pipeline, const std::string& executor,
                                     const std::string& options) {
    namespace fs = std::filesystem;
    write_file(dir.path / "p.yaml", pipeline);
    const auto remote = asaflow("run p.yaml --executor " + executor + " " + options + " --cache-dir S");
    ASSERT_EQ(remote.exit_code, 0) << remote.err;
    EXPECT_EQ(summary(remote), "pipeline 'sweep': 6 stages: 6 ran, 0 cached, 0 failed, 0 skipped");
    const auto local = asaflow("run p.yaml --cache-dir L");
    ASSERT_EQ(local.exit_code, 0) << local.err;
    int jobs = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir.path / "S/jobs")) {
      if (e.path().filename() != "job.json") continue;
      ++jobs;
      const auto j = nlohmann::json::parse(read_file(e.path()));
      EXPECT_EQ(j["executor"], executor) << e.path();
      EXPECT_EQ(j["state"], "COMPLETED") << e.path();
      EXPECT_TRUE(fs::exists(j["log"].get<std::string>())) << j.dump();
    }
    EXPECT_EQ(jobs, 6);
    EXPECT_FALSE(fs::exists(dir.path / "L/jobs"));
    for (const std::string cell :
         {"words", "stats[lowercase=true]", "stats[lowercase=false]", "slow[tag=a]", "slow[tag=b]", "report"}) {
      const auto s = show("p.yaml", cell, "S"), l = show("p.yaml", cell, "L");
      ASSERT_EQ(s["key"], l["key"]) << cell;
      if (cell == "report") continue;  // a report states its date and run times
      for (const auto& f : l["files"]) {
        const std::string name = f["path"];
        EXPECT_EQ(read_file(fs::path(s["output_dir"].get<std::string>()) / name),
                  read_file(fs::path(l["output_dir"].get<std::string>()) / name))
            << cell << "/" << name;
      }
    }
    const auto again = asaflow("run p.yaml --cache-dir S");
    EXPECT_EQ(summary(again), "pipeline 'sweep': 6 stages: 0 ran, 6 cached, 0 failed, 0 skipped") << again.err;
    const auto reverse = asaflow("run p.yaml --executor " + executor + " --cache-dir L");
    EXPECT_EQ(summary(reverse), "pipeline 'sweep': 6 stages: 0 ran, 6 cached, 0 failed, 0 skipped") << reverse.err;
    EXPECT_FALSE(fs::exists(dir.path / "L/jobs"));
  }

  TempDir dir;
};

}  // namespace asaflow::test
