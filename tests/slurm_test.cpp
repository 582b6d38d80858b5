// The slurm executor against a real Slurm: Debian's slurm-wlm with munge, started as a
// single-node cluster on this machine by tests/slurm/cluster.sh (once for the suite).
// Without Slurm installed, or when a daemon cannot start, every test skips and says why.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "executor_fixture.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

class Slurm : public ExecutorTest {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new TempDir;
    const auto r = run_command("bash '" + (source_dir() / "tests/slurm/cluster.sh").string() + "' start '" +
                                   (cluster_->path / "c").string() + "'",
                               cluster_->path);
    std::smatch m;
    static const std::regex kConf("export SLURM_CONF=(\\S+)");
    if (r.exit_code == 0 && std::regex_search(r.out, m, kConf)) {
      conf_ = m[1];
    } else {
      why_ = "the test Slurm cluster did not start (tests/slurm/cluster.sh exit " + std::to_string(r.exit_code) +
             "): " + r.err;
    }
  }
  static void TearDownTestSuite() {
    run_command("bash '" + (source_dir() / "tests/slurm/cluster.sh").string() + "' stop '" +
                    (cluster_->path / "c").string() + "'",
                cluster_->path);
    delete cluster_;
  }
  void SetUp() override {
    if (conf_.empty()) GTEST_SKIP() << why_;
    ExecutorTest::SetUp();
  }
  std::string executor_env() const override { return "SLURM_CONF='" + conf_ + "' ASAFLOW_SLURM_POLL_SECONDS=0.3"; }
  // A driver on long.yaml (slow sleeping `sleep_ms`) on Slurm, once slow's job has started.
  pid_t start_long_run(int sleep_ms) { return ExecutorTest::start_long_run(sleep_ms, "--executor slurm"); }
  void write_long(int sleep_ms) { write_file(dir.path / "long.yaml", with_sleep(kLongPipeline, sleep_ms)); }
  // The ids of this cluster's queued or running jobs whose name contains `name`.
  std::vector<std::string> jobs_named(const std::string& name) {
    const auto r = run_command("SLURM_CONF='" + conf_ + "' squeue -h -o '%i %j'", dir.path);
    std::vector<std::string> ids;
    for (const auto& line : lines_of(r.out))
      if (line.find(name) != std::string::npos) ids.push_back(line.substr(0, line.find(' ')));
    return ids;
  }
  static TempDir* cluster_;
  static std::string conf_, why_;
};
TempDir* Slurm::cluster_ = nullptr;
std::string Slurm::conf_, Slurm::why_;

// A matrix pipeline run as Slurm jobs gives, cell for cell, the keys and the bytes of a
// local run; each store's entries are cache hits for the other way of running.
TEST_F(Slurm, MatrixSweepEqualsTheLocalRunByteForByteAndSharesItsCache) {
  expect_sweep_equals_local_run(sweep_pipeline(300, R"(resources: {cpus: 1, memory: 100M, time: "5"})"), "slurm", "");
}

// A job cancelled under the driver (scancel) is reported with its state, id and log; the
// cells that need it are skipped; a rerun computes it and reuses the rest.
TEST_F(Slurm, ScancelledJobIsReportedAndTheRerunResumes) {
  const pid_t driver = start_long_run(60000);
  ASSERT_GT(driver, 0);
  const auto ids = jobs_named("long:slow");
  ASSERT_EQ(ids.size(), 1u);
  run_command("SLURM_CONF='" + conf_ + "' scancel " + ids[0], dir.path);
  EXPECT_EQ(exit_status(driver), 1) << read_file(dir.path / "driver.err");
  const std::string err = read_file(dir.path / "driver.err");
  EXPECT_NE(err.find("error: stage slow failed: slurm job " + ids[0] + " ended CANCELLED"), std::string::npos) << err;
  EXPECT_NE(err.find("slurm-" + ids[0] + ".out"), std::string::npos) << err;

  // The rerun (here with a shorter sleep, as after fixing what made the job fail):
  // words and fast come from the cache; only slow is computed.
  write_long(200);
  const auto again = asaflow("run long.yaml --executor slurm --cache-dir S");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(summary(again), "pipeline 'long': 3 stages: 1 ran, 2 cached, 0 failed, 0 skipped");
  EXPECT_EQ(count_in_log("start fast"), 1);
}

// A job preempted by a higher-priority partition (the test cluster's 'urgent' cancels
// 'debug' jobs whose CPUs it needs) is reported as PREEMPTED with what to do; the rerun
// reuses every committed cell.
TEST_F(Slurm, PreemptedJobIsReportedAndTheRerunReusesTheCommittedCells) {
  const pid_t driver = start_long_run(60000);
  ASSERT_GT(driver, 0);
  const auto ids = jobs_named("long:slow");
  ASSERT_EQ(ids.size(), 1u);
  const auto urgent =
      run_command("SLURM_CONF='" + conf_ + "' sbatch -p urgent -n 4 -o /dev/null --wrap 'sleep 1'", dir.path);
  ASSERT_EQ(urgent.exit_code, 0) << urgent.out << urgent.err;
  EXPECT_EQ(exit_status(driver), 1) << read_file(dir.path / "driver.err");
  const std::string err = read_file(dir.path / "driver.err");
  EXPECT_NE(err.find("error: stage slow failed: slurm job " + ids[0] + " ended PREEMPTED"), std::string::npos) << err;
  EXPECT_NE(err.find("; rerun: committed cells are reused and an interrupted training run resumes from its checkpoint"),
            std::string::npos)
      << err;
  EXPECT_TRUE(wait_for([&] { return jobs_named("long:").empty() && jobs_named("wrap").empty(); }, 30));
  // What a rerun would do: the committed cells are cache hits; only slow is computed.
  const auto again = asaflow("run long.yaml --executor slurm --cache-dir S --dry-run");
  EXPECT_NE(again.out.find("cached    fast"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("cached    words"), std::string::npos) << again.out;
  EXPECT_EQ(count_in_log("end slow"), 0);
}

// A job that runs past its stage's time limit (resources.time, one minute: Slurm's least)
// ends TIMEOUT, is reported with what to do, and its dependents are skipped. Slurm checks
// limits every 30 s, so this test takes 60-100 s.
TEST_F(Slurm, TimedOutJobIsReportedWithWhatToDo) {
  write_file(dir.path / "timed.yaml", R"(pipeline: timed
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  slow:
    uses: stage/slow_copy
    needs: [words]
    params: {sleep_ms: 300000, tag: slow}
    resources: {time: "1"}
  after: {uses: stage/slow_copy, needs: [slow], params: {sleep_ms: 10, tag: after}}
)");
  const auto r = asaflow("run timed.yaml --executor slurm --cache-dir S");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::smatch m;
  static const std::regex kTimedOut("error: stage slow failed: slurm job (\\d+) ended TIMEOUT");
  ASSERT_TRUE(std::regex_search(r.err, m, kTimedOut)) << r.err;
  EXPECT_NE(r.err.find("slurm-" + m[1].str() + ".out"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("raise the stage's resources.time, then rerun"), std::string::npos) << r.err;
  EXPECT_EQ(summary(r), "pipeline 'timed': 3 stages: 1 ran, 0 cached, 1 failed, 1 skipped") << r.err;
  EXPECT_EQ(count_in_log("start after"), 0);
  EXPECT_EQ(count_in_log("end slow"), 0);
}

// A driver killed with kill -9 leaves its jobs running; the rerun reuses every committed
// cell and waits for the job still running instead of submitting it again.
TEST_F(Slurm, DriverKilledNineIsRerunAndReusesEveryCommittedCell) {
  const pid_t driver = start_long_run(15000);
  ASSERT_GT(driver, 0);
  ::kill(driver, SIGKILL);
  ::waitpid(driver, nullptr, 0);
  ASSERT_EQ(jobs_named("long:slow").size(), 1u);  // the job outlives its driver
  // status shows the cell's job, as Slurm sees it now.
  const auto status = asaflow("status long.yaml --cache-dir S");
  EXPECT_NE(status.out.find("(slurm job " + jobs_named("long:slow")[0] + " RUNNING, its files in "), std::string::npos)
      << status.out;
  const auto rerun = asaflow("run long.yaml --executor slurm --cache-dir S");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  // words and fast were committed before the kill (reused); slow completed in its one job.
  EXPECT_EQ(count_in_log("start fast"), 1);
  EXPECT_EQ(count_in_log("start slow"), 1);
  EXPECT_EQ(count_in_log("end slow"), 1);
  // slow is "ran" (its job, adopted, committed it during the rerun) or, on a slow machine,
  // already cached when the rerun looked: either way nothing ran twice and nothing failed.
  EXPECT_NE(summary(rerun).find(", 0 failed, 0 skipped"), std::string::npos) << rerun.out;
}

// SIGTERM (or Ctrl-C) of the driver cancels its jobs and leaves no entry behind.
TEST_F(Slurm, InterruptedDriverCancelsItsJobs) {
  const pid_t driver = start_long_run(60000);
  ASSERT_GT(driver, 0);
  ::kill(driver, SIGTERM);
  EXPECT_EQ(exit_status(driver), 130) << read_file(dir.path / "driver.err");
  EXPECT_NE(read_file(dir.path / "driver.err").find("interrupted: the running slurm jobs were cancelled"),
            std::string::npos);
  EXPECT_TRUE(wait_for([&] { return jobs_named("long:").empty(); }, 30));
  const auto status_out = asaflow("status long.yaml --cache-dir S");
  EXPECT_NE(status_out.out.find("slow: "), std::string::npos) << status_out.out;
  EXPECT_EQ(status_out.out.find("cached    slow"), std::string::npos) << status_out.out;
  EXPECT_EQ(count_in_log("end slow"), 0);
}

}  // namespace

namespace {

// Without Slurm on PATH the run fails at the first cell with a one-line reason, and the
// cells that need it are skipped.
TEST(SlurmMissing, TheFirstCellSaysSbatchIsNotOnPath) {
  TempDir dir, empty;
  write_file(dir.path / "corpus/a.txt", "The cat sat.\n");
  write_file(dir.path / "p.yaml", R"(stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  stats: {uses: metric/corpus_stats, needs: [words]}
)");
  const auto r = run_asaflow("run p.yaml --executor slurm", dir.path, "PATH='" + empty.path.string() + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("error: stage words failed: sbatch refused cell words: sbatch is not on PATH (is this a Slurm "
                       "login node?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("0 ran, 0 cached, 1 failed, 1 skipped"), std::string::npos) << r.out;
}

}  // namespace
