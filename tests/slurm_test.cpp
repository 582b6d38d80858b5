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

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

// words -> stats x 2 (matrix) -> slow x 2 (matrix) -> report: six cells, four in a matrix.
const char* kMatrix = R"(pipeline: sweep
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  stats: {uses: metric/corpus_stats, needs: [words], matrix: {lowercase: [true, false]}}
  slow:
    uses: stage/slow_copy
    needs: [stats]
    params: {sleep_ms: 300}
    matrix: {tag: [a, b]}
    resources: {cpus: 1, memory: 100M, time: "5"}
  report: {uses: reporter/markdown, needs: [slow]}
)";

// One slow cell after the dataset, sleeping SLEEP ms; FAST is a quick independent one.
const char* kSlow = R"(pipeline: long
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus], format: plain}}
  fast: {uses: stage/slow_copy, needs: [words], params: {sleep_ms: 100, tag: fast}}
  slow: {uses: stage/slow_copy, needs: [words], params: {sleep_ms: SLEEP, tag: slow}}
)";

class Slurm : public ::testing::Test {
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
    write_file(dir.path / "corpus/a.txt", "The cat sat on the mat. The dog ate bread!\n\nA new paragraph.\n");
    write_file(dir.path / "corpus/b.txt", "Another file, with words. And more words?\n");
  }
  // The environment a driver needs: the cluster, a quick poll, a log of stage starts.
  std::string env() const {
    return "SLURM_CONF='" + conf_ + "' ASAFLOW_SLURM_POLL_SECONDS=0.3 ASAFLOW_TEST_RUN_LOG='" +
           (dir.path / "runs.log").string() + "'";
  }
  std::string plugins() const { return " --plugin-dir '" + (fixture_dir() / "slow").string() + "'"; }
  CommandResult asaflow(const std::string& args) { return run_asaflow(args + plugins(), dir.path, env()); }
  nlohmann::json show(const std::string& pipeline, const std::string& cell, const std::string& store) {
    const auto r = asaflow("show " + pipeline + " '" + cell + "' --json --cache-dir " + store);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  // Starts a driver in the background; returns its pid.
  pid_t start_driver(const std::string& pipeline, const std::string& store) {
    const std::string command = "exec env " + env() + " ASAFLOW_PLUGIN_INDEX= '" + asaflow_binary().string() +
                                "' run " + pipeline + " --executor slurm --quiet --cache-dir " + store + plugins() +
                                " >driver.out 2>driver.err";
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::chdir(dir.path.c_str());
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  }
  // long.yaml with slow sleeping `sleep_ms`.
  void write_long(int sleep_ms) {
    std::string p = kSlow;
    p.replace(p.find("SLEEP"), 5, std::to_string(sleep_ms));
    write_file(dir.path / "long.yaml", p);
  }
  // A driver on long.yaml (slow sleeping `sleep_ms`), once fast has committed and slow's
  // job has started; -1 (and a failure) when it never got there.
  pid_t start_long_run(int sleep_ms) {
    write_long(sleep_ms);
    const pid_t driver = start_driver("long.yaml", "S");
    if (wait_for([&] { return count_in_log("end fast") == 1 && count_in_log("start slow") == 1; }, 60)) return driver;
    ADD_FAILURE() << "slow's job never started: " << read_file(dir.path / "driver.err");
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
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // The ids of this cluster's queued or running jobs whose name contains `name`.
  std::vector<std::string> jobs_named(const std::string& name) {
    const auto r = run_command("SLURM_CONF='" + conf_ + "' squeue -h -o '%i %j'", dir.path);
    std::vector<std::string> ids;
    for (const auto& line : lines_of(r.out))
      if (line.find(name) != std::string::npos) ids.push_back(line.substr(0, line.find(' ')));
    return ids;
  }
  int count_in_log(const std::string& line) {
    int n = 0;
    for (const auto& l : lines_of(read_file(dir.path / "runs.log"))) n += l == line;
    return n;
  }

  TempDir dir;
  static TempDir* cluster_;
  static std::string conf_, why_;
};
TempDir* Slurm::cluster_ = nullptr;
std::string Slurm::conf_, Slurm::why_;

std::string summary(const CommandResult& r) {
  for (const auto& l : lines_of(r.out))
    if (l.rfind("pipeline ", 0) == 0) return l.substr(0, l.rfind(" ("));
  return "";
}

// A matrix pipeline run as Slurm jobs gives, cell for cell, the keys and the bytes of a
// local run; each store's entries are cache hits for the other way of running.
TEST_F(Slurm, MatrixSweepEqualsTheLocalRunByteForByteAndSharesItsCache) {
  write_file(dir.path / "p.yaml", kMatrix);
  const auto on_slurm = asaflow("run p.yaml --executor slurm --cache-dir S");
  ASSERT_EQ(on_slurm.exit_code, 0) << on_slurm.err;
  EXPECT_EQ(summary(on_slurm), "pipeline 'sweep': 6 stages: 6 ran, 0 cached, 0 failed, 0 skipped");
  const auto local = asaflow("run p.yaml --cache-dir L");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  // Every cell computed in a job of its own, which completed.
  int jobs = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path / "S/jobs")) {
    if (e.path().filename() != "job.json") continue;
    ++jobs;
    const auto j = nlohmann::json::parse(read_file(e.path()));
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
  // Slurm's results are local cache hits, and the local run's are hits on Slurm (no job).
  const auto again = asaflow("run p.yaml --cache-dir S");
  EXPECT_EQ(summary(again), "pipeline 'sweep': 6 stages: 0 ran, 6 cached, 0 failed, 0 skipped") << again.err;
  const auto reverse = asaflow("run p.yaml --executor slurm --cache-dir L");
  EXPECT_EQ(summary(reverse), "pipeline 'sweep': 6 stages: 0 ran, 6 cached, 0 failed, 0 skipped") << reverse.err;
  EXPECT_FALSE(fs::exists(dir.path / "L/jobs"));
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
