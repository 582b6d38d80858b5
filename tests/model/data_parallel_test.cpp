// Data-parallel training (train param world_size) through the asaflow executable: two
// processes at global batch 8, each computing half of every batch, train the model a
// single process trains at batch 8 (dropout off): the same loss curve within 1e-5 and the
// same final weights within float tolerance. And a rank that dies fails the stage with its
// log named, and the rerun resumes from rank 0's checkpoint.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/serialize.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "asaflow/model/data_parallel.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

// `extra` continues the train params; a "}" in it closes them (", resources: {...}" follows).
std::string pipeline(int world_size, int steps, const std::string& extra = "") {
  return small_training_pipeline("size: tiny, batch_size: 8, max_steps: " + std::to_string(steps) +
                                 ", eval_every: 10, log_every: 1, device: cpu, dropout: 0, step: eager, world_size: " +
                                 std::to_string(world_size) + extra);
}

nlohmann::json shown(const fs::path& dir) {
  const auto r = run_asaflow("show p.yaml train --json", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

std::map<std::string, torch::Tensor> weights(const fs::path& file) {
  torch::serialize::InputArchive a;
  a.load_from(file.string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& key : a.keys()) {
    torch::Tensor t;
    if (a.try_read(key, t)) out[key] = t;
  }
  return out;
}

TEST(DataParallel, ShardsCoverEveryRowOfTheBatchOnce) {
  for (std::int64_t n : {1, 7, 8, 9}) {
    for (int world : {1, 2, 3}) {
      std::int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto [from, to] = asaflow::model::shard_of(n, rank, world);
        EXPECT_EQ(from, next) << n << " " << world;
        EXPECT_LE(to - from, (n + world - 1) / world);
        next = to;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(DataParallel, TwoProcessesTrainWhatOneProcessTrainsAtTheSameGlobalBatch) {
  if (!asaflow::model::DataParallel::available()) GTEST_SKIP() << "this build has no c10d with Gloo (libgloo-dev)";
  TempDir one, two;
  write_file(one.path / "p.yaml", pipeline(1, 20));
  write_file(two.path / "p.yaml", pipeline(2, 20));
  const auto a = run_asaflow("run p.yaml --quiet --threads 1", one.path);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run_asaflow("run p.yaml --threads 1", two.path);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("rank 0 of 2 (rendezvous 127.0.0.1:"), std::string::npos) << b.err;

  const fs::path da = shown(one.path)["output_dir"].get<std::string>();
  const fs::path db = shown(two.path)["output_dir"].get<std::string>();
  const auto ca = nlohmann::json::parse(read_file(da / "curves.json"));
  const auto cb = nlohmann::json::parse(read_file(db / "curves.json"));
  ASSERT_EQ(ca["train_loss"].size(), 20u);
  ASSERT_EQ(cb["train_loss"].size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(ca["train_loss"][i][0], cb["train_loss"][i][0]);
    EXPECT_NEAR(ca["train_loss"][i][1].get<double>(), cb["train_loss"][i][1].get<double>(), 1e-5) << "step " << i + 1;
  }
  for (std::size_t i = 0; i < ca["val_ppl"].size(); ++i)
    EXPECT_NEAR(ca["val_ppl"][i][1].get<double>() / cb["val_ppl"][i][1].get<double>(), 1.0, 1e-5);
  const auto wa = weights(da / "model.pt"), wb = weights(db / "model.pt");
  ASSERT_EQ(wa.size(), wb.size());
  ASSERT_FALSE(wa.empty());
  for (const auto& [name, t] : wa) {
    ASSERT_TRUE(wb.count(name)) << name;
    EXPECT_LT((t - wb.at(name)).abs().max().item<double>(), 1e-4) << name;
  }
}

// A rank killed mid-run fails the stage (rank 0's collective loses its peer); the rerun
// resumes both ranks from rank 0's checkpoint and ends where an uninterrupted run does.
TEST(DataParallel, AKilledRankFailsTheStageAndTheRerunResumesFromTheCheckpoint) {
  if (!asaflow::model::DataParallel::available()) GTEST_SKIP() << "this build has no c10d with Gloo (libgloo-dev)";
  TempDir clean, crashed;
  const std::string extra = ", checkpoint_every: 10";
  write_file(clean.path / "p.yaml", pipeline(2, 120, extra));
  write_file(crashed.path / "p.yaml", pipeline(2, 120, extra));
  const auto uninterrupted = run_asaflow("run p.yaml --quiet --threads 1", clean.path);
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;

  const pid_t driver = start_asaflow_run("p.yaml", crashed.path);
  ASSERT_GE(driver, 0);
  ASSERT_TRUE(wait_for_file(crashed.path / ".asaflow/scratch", "train_state.pt", 60));
  // Rank 1 is the process computing this pipeline's cell as --rank 1 (the pattern's [-]
  // keeps pkill from matching the shell that runs it).
  const auto killed = run_command("pkill -9 -f -- '" + (crashed.path / "p.yaml").string() + ".*-[-]rank 1 '", "/");
  ASSERT_EQ(killed.exit_code, 0) << "no rank 1 to kill: the run ended first";
  int status = 0;
  ::waitpid(driver, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const auto failure = run_asaflow("status p.yaml", crashed.path);
  EXPECT_NE(failure.out.find("data-parallel training stopped: rank 1 was killed by signal 9 (log: "), std::string::npos)
      << failure.out;

  const auto resumed = run_asaflow("run p.yaml --threads 1", crashed.path);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from the checkpoint at step "), std::string::npos) << resumed.err;
  const fs::path da = shown(clean.path)["output_dir"].get<std::string>();
  const fs::path db = shown(crashed.path)["output_dir"].get<std::string>();
  const auto ca = nlohmann::json::parse(read_file(da / "curves.json"));
  const auto cb = nlohmann::json::parse(read_file(db / "curves.json"));
  ASSERT_EQ(ca["val_ppl"].size(), cb["val_ppl"].size());
  EXPECT_NEAR(ca["val_ppl"].back()[1].get<double>(), cb["val_ppl"].back()[1].get<double>(), 1e-6);
}

// Under Slurm, resources.tasks makes the cell's job start one rank per task with srun
// (rendezvous from SLURM_* variables): the same curve, within 1e-5, as the two ranks this
// stage starts itself on one machine.
TEST(DataParallel, UnderSlurmSrunStartsTheRanks) {
  if (!asaflow::model::DataParallel::available()) GTEST_SKIP() << "this build has no c10d with Gloo (libgloo-dev)";
  TempDir cluster, local, slurm;
  const std::string script = (source_dir() / "tests/slurm/cluster.sh").string();
  const auto started = run_command("bash '" + script + "' start '" + (cluster.path / "c").string() + "'", cluster.path);
  if (started.exit_code != 0) GTEST_SKIP() << "the test Slurm cluster did not start: " << started.err;
  struct Stop {
    std::string script, dir;
    ~Stop() { run_command("bash '" + script + "' stop '" + dir + "'", "/"); }
  } stop{script, (cluster.path / "c").string()};
  const std::string conf =
      started.out.substr(started.out.find('=') + 1, started.out.find('\n') - started.out.find('=') - 1);
  write_file(local.path / "p.yaml", pipeline(2, 20));
  write_file(slurm.path / "p.yaml", pipeline(2, 20, "}, resources: {tasks: 2, cpus: 1"));
  const auto a = run_asaflow("run p.yaml --quiet --threads 1", local.path);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run_asaflow("run p.yaml --quiet --executor slurm", slurm.path,
                             "SLURM_CONF='" + conf + "' ASAFLOW_SLURM_POLL_SECONDS=0.3");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const fs::path da = shown(local.path)["output_dir"].get<std::string>();
  const fs::path db = shown(slurm.path)["output_dir"].get<std::string>();
  // Equal up to the order of float sums (another process layout, other BLAS threads).
  const auto ca = nlohmann::json::parse(read_file(da / "curves.json"));
  const auto cb = nlohmann::json::parse(read_file(db / "curves.json"));
  ASSERT_EQ(ca["train_loss"].size(), cb["train_loss"].size());
  for (std::size_t i = 0; i < ca["train_loss"].size(); ++i)
    EXPECT_NEAR(ca["train_loss"][i][1].get<double>(), cb["train_loss"][i][1].get<double>(), 1e-5) << i;
  bool srun = false;
  for (const auto& e : fs::recursive_directory_iterator(slurm.path / ".asaflow/jobs"))
    if (e.path().filename() == "job.sh" && read_file(e.path()).find("exec srun ") != std::string::npos) srun = true;
  EXPECT_TRUE(srun);
}

// Every rank must be a cell of the same run: a mismatched group is refused by name.
TEST(DataParallel, ARankStartedOutsideAGroupIsRefused) {
  TempDir dir;
  write_file(dir.path / "p.yaml", pipeline(2, 4));
  const auto r = run_asaflow("run p.yaml --rank 1", dir.path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rank needs --cell"), std::string::npos) << r.err;
  const auto s = run_asaflow("run p.yaml --cell train --rank 3 --world-size 2 --rendezvous 127.0.0.1:1", dir.path);
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("rank 3 of world size 2 (--world-size) is not a place in a group"), std::string::npos) << s.err;
}

}  // namespace
