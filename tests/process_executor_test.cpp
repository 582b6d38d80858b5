// executor/process: each cell in a child asaflow process on this machine. The same keys
// and bytes as a local run; a cell killed under the driver fails alone; the driver's
// SIGTERM stops its cells; a driver killed with kill -9 leaves its cells running and the
// rerun waits for them; no more cells at once than the cores allow for their threads.
#include "executor_fixture.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

class ProcessExecutor : public ExecutorTest {
 protected:
  // A driver on long.yaml (slow sleeping `sleep_ms`) with child processes, two at once.
  pid_t start_long_run(int sleep_ms) {
    return ExecutorTest::start_long_run(sleep_ms, "--executor process -j 2 --threads 1");
  }
  // The job record of the cell `cell` of `pipeline` in store S (the only key it had).
  nlohmann::json job_record(const std::string& pipeline_dir, const std::string& cell_dir) {
    for (const auto& e : fs::recursive_directory_iterator(dir.path / "S/jobs")) {
      const std::string p = e.path().string();
      if (e.path().filename() == "job.json" && p.find("/" + pipeline_dir) != std::string::npos &&
          p.find("/" + cell_dir) != std::string::npos)
        return nlohmann::json::parse(read_file(e.path()));
    }
    return nullptr;
  }
  // The pid in a job id HOST:PID:START.
  static pid_t pid_of(const nlohmann::json& record) {
    const std::string id = record.value("job_id", "");
    const auto a = id.find(':'), b = id.rfind(':');
    return a == std::string::npos || a == b ? -1 : pid_t(std::stol(id.substr(a + 1, b - a - 1)));
  }
  static bool running(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0) return false;
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
  }
  // The order of slow_copy's start and end lines for the cells named in them.
  std::vector<std::string> run_log() { return lines_of(read_file(dir.path / "runs.log")); }
};

// A matrix pipeline run cell by cell in child processes gives, cell for cell, the keys and
// bytes of a local run; each store's entries are cache hits for the other way of running.
TEST_F(ProcessExecutor, MatrixSweepEqualsTheLocalRunByteForByteAndSharesItsCache) {
  expect_sweep_equals_local_run(sweep_pipeline(200), "process", "-j 2 --threads 1");
}

// A cell's process killed with kill -9 (what the out-of-memory killer does) ends that
// cell only: the driver names the signal and the log, the independent cell committed, and
// the rerun computes only the killed one.
TEST_F(ProcessExecutor, CellKilledNineFailsAloneAndTheRerunComputesOnlyIt) {
  const pid_t driver = start_long_run(60000);
  ASSERT_GT(driver, 0);
  nlohmann::json record;
  ASSERT_TRUE(wait_for([&] { return !(record = job_record("long.", "slow.")).is_null(); }, 30));
  const pid_t cell = pid_of(record);
  ASSERT_TRUE(running(cell)) << record.dump();
  ::kill(cell, SIGKILL);
  EXPECT_EQ(exit_status(driver), 1) << read_file(dir.path / "driver.err");
  const std::string err = read_file(dir.path / "driver.err");
  EXPECT_NE(err.find("error: stage slow failed: process job " + record["job_id"].get<std::string>() +
                     " ended KILLED: killed by signal 9 (SIGKILL): the kernel's out-of-memory killer or kill -9"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("process-" + std::to_string(cell) + ".out"), std::string::npos) << err;
  EXPECT_EQ(job_record("long.", "slow.")["state"], "KILLED");

  write_file(dir.path / "long.yaml", with_sleep(kLongPipeline, 200));
  const auto again = asaflow("run long.yaml --executor process --cache-dir S");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(summary(again), "pipeline 'long': 3 stages: 1 ran, 2 cached, 0 failed, 0 skipped");
  EXPECT_EQ(count_in_log("start fast"), 1);
}

// SIGTERM (or Ctrl-C) of the driver stops its cells' processes and leaves no entry.
TEST_F(ProcessExecutor, InterruptedDriverStopsItsCells) {
  const pid_t driver = start_long_run(60000);
  ASSERT_GT(driver, 0);
  nlohmann::json record;
  ASSERT_TRUE(wait_for([&] { return !(record = job_record("long.", "slow.")).is_null(); }, 30));
  const pid_t cell = pid_of(record);
  ::kill(driver, SIGTERM);
  EXPECT_EQ(exit_status(driver), 130) << read_file(dir.path / "driver.err");
  EXPECT_NE(read_file(dir.path / "driver.err").find("interrupted: the running process jobs were cancelled"),
            std::string::npos);
  EXPECT_FALSE(running(cell));
  EXPECT_EQ(job_record("long.", "slow.")["state"], "CANCELLED");
  const auto status = asaflow("status long.yaml --cache-dir S");
  EXPECT_NE(status.out.find("cached    fast"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("cached    slow"), std::string::npos) << status.out;
  EXPECT_EQ(count_in_log("end slow"), 0);
}

// A driver killed with kill -9 leaves its cell running (its own process group); status
// shows it, and the rerun waits for it instead of computing the cell a second time.
TEST_F(ProcessExecutor, DriverKilledNineLeavesItsCellRunningAndTheRerunWaitsForIt) {
  const pid_t driver = start_long_run(6000);
  ASSERT_GT(driver, 0);
  nlohmann::json record;
  ASSERT_TRUE(wait_for([&] { return !(record = job_record("long.", "slow.")).is_null(); }, 30));
  ::kill(driver, SIGKILL);
  ::waitpid(driver, nullptr, 0);
  const pid_t cell = pid_of(record);
  ASSERT_TRUE(running(cell));
  const auto status = asaflow("status long.yaml --cache-dir S");
  EXPECT_NE(status.out.find("(process job " + record["job_id"].get<std::string>() + " RUNNING, its files in "),
            std::string::npos)
      << status.out;
  const auto rerun = asaflow("run long.yaml --executor process --cache-dir S");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(count_in_log("start slow"), 1);
  EXPECT_EQ(count_in_log("end slow"), 1);
  EXPECT_NE(summary(rerun).find(", 0 failed, 0 skipped"), std::string::npos) << rerun.out;
  ::waitpid(cell, nullptr, WNOHANG);  // not our child: reaped by init
}

// Cells that each take every core run one at a time whatever -j says; with one thread
// each, two run side by side (on a machine with two cores or more).
TEST_F(ProcessExecutor, NoMoreCellsAtOnceThanTheCoresAllowForTheirThreads) {
  const unsigned cores = std::thread::hardware_concurrency();
  write_file(dir.path / "p.yaml", sweep_pipeline(1500));
  const auto all_cores =
      asaflow("run p.yaml --executor process -j 2 --threads " + std::to_string(cores) + " --cache-dir S");
  ASSERT_EQ(all_cores.exit_code, 0) << all_cores.err;
  auto log = run_log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].substr(0, 6), "start ");
  EXPECT_EQ(log[1], "end " + log[0].substr(6)) << "two cells of " << cores << " threads ran at once";
  if (cores < 2) GTEST_SKIP() << "one core: two cells of one thread each cannot run side by side";
  fs::remove(dir.path / "runs.log");
  write_file(dir.path / "p.yaml", sweep_pipeline(3000));  // new keys for slow
  const auto one_each = asaflow("run p.yaml --executor process -j 2 --threads 1 --cache-dir S");
  ASSERT_EQ(one_each.exit_code, 0) << one_each.err;
  log = run_log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].substr(0, 6), "start ");
  EXPECT_EQ(log[1].substr(0, 6), "start ") << "the second cell waited for the first";
}

}  // namespace
