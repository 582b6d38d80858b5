// stage/train through the asaflow executable: kill -9 in the middle of training, rerun,
// and the resumed run ends exactly where an uninterrupted one does (and records the same
// initial-weights digest); a NaN stops the stage with the step named; target_from takes the
// target from a baseline stage (and the two stages of one seed record the same digest).
#include <gtest/gtest.h>

#include <regex>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/online_softmax.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

std::string pipeline(int steps, const std::string& extra = "") {
  return small_training_pipeline("size: tiny, batch_size: 2, max_steps: " + std::to_string(steps) +
                                 ", eval_every: 500, log_every: 50, checkpoint_every: 50, device: cpu" + extra);
}

TEST(TrainStage, KillNineThenRerunResumesToTheSameResult) {
  TempDir a, b;
  write_file(a.path / "p.yaml", pipeline(1500));
  write_file(b.path / "p.yaml", pipeline(1500));
  auto uninterrupted = run_asaflow("run p.yaml --quiet --threads 1", a.path);
  ASSERT_EQ(uninterrupted.exit_code, 0) << uninterrupted.err;

  const pid_t pid = start_asaflow_run("p.yaml", b.path);
  ASSERT_GE(pid, 0);
  ASSERT_TRUE(wait_for_file(b.path / ".asaflow/scratch", "train_state.pt", 30));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  // The live curves were written while it trained, and survive the kill.
  const fs::path live = find_file(b.path / ".asaflow/logs", "curves.csv");
  ASSERT_FALSE(live.empty());
  EXPECT_NE(read_file(live).find("\ntrain_loss,50,"), std::string::npos) << read_file(live);

  auto resumed = run_asaflow("run p.yaml --threads 1", b.path);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming from the checkpoint at step "), std::string::npos) << resumed.err;
  const fs::path ca = find_file(a.path / ".asaflow/objects", "curves.json");
  const fs::path cb = find_file(b.path / ".asaflow/objects", "curves.json");
  ASSERT_FALSE(ca.empty());
  ASSERT_FALSE(cb.empty());
  EXPECT_EQ(read_file(ca), read_file(cb));  // every loss and PPL point identical
  // The resumed stage records the digest of the step-0 weights, not of the checkpoint's.
  auto initial_weights = [](const fs::path& store) {
    for (const auto& e : fs::recursive_directory_iterator(store)) {
      if (e.path().filename() != "results.json") continue;
      const auto results = nlohmann::json::parse(read_file(e.path()));
      for (const auto& rec : results["records"])
        if (rec["metric"] == "initial_weights") return rec["labels"].value("sha256", "");
    }
    return std::string();
  };
  EXPECT_EQ(initial_weights(b.path / ".asaflow/objects"), initial_weights(a.path / ".asaflow/objects"));
  EXPECT_EQ(initial_weights(a.path / ".asaflow/objects").size(), 64u);
  EXPECT_EQ(read_file(find_file(a.path / ".asaflow/objects", "model.pt")).size(),
            read_file(find_file(b.path / ".asaflow/objects", "model.pt")).size());
  // After the resume the live file holds each point once (the restored ones, then the
  // rest), with the values of the committed curves.
  const auto committed = nlohmann::json::parse(read_file(cb));
  std::vector<std::pair<long long, double>> live_loss;
  for (const auto& l : lines_of(read_file(live))) {
    if (l.rfind("train_loss,", 0) != 0) continue;
    const auto comma = l.find(',', 11);
    live_loss.emplace_back(std::stoll(l.substr(11, comma - 11)), std::stod(l.substr(comma + 1)));
  }
  ASSERT_EQ(live_loss.size(), committed["train_loss"].size());
  for (std::size_t i = 0; i < live_loss.size(); ++i) {
    EXPECT_EQ(live_loss[i].first, committed["train_loss"][i][0].get<long long>());
    EXPECT_NEAR(live_loss[i].second, committed["train_loss"][i][1].get<double>(), 1e-6);
  }
  // The committed stage leaves no resume state behind.
  EXPECT_TRUE(find_file(b.path / ".asaflow/scratch", "train_state.pt").empty());
}

TEST(TrainStage, NanLossStopsWithTheStepNamed) {
  TempDir d;
  write_file(d.path / "p.yaml", pipeline(120, ", inject_nan_at_step: 77"));
  auto r = run_asaflow("run p.yaml --quiet", d.path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find(
          "error: stage train failed: training loss became NaN at step 77; the last good checkpoint is kept in '"),
      std::string::npos)
      << r.err;
  EXPECT_FALSE(find_file(d.path / ".asaflow/scratch", "train_state.pt").empty());  // kept
}

TEST(TrainStage, TargetFromABaselineStage) {
  TempDir d;
  std::string p = pipeline(100, ", mode: none");
  p.replace(p.find("  train: {uses: train"), 8, "  base:");
  p += "  asa: {uses: train, needs: [prep, base], params: {size: tiny, mode: full, batch_size: 2, max_steps: 100, "
       "eval_every: 20, checkpoint_every: 0, target_from: base}}\n";
  write_file(d.path / "p.yaml", p);
  auto r = run_asaflow("run p.yaml --quiet", d.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool found = false;
  int precision_labels = 0;  // stage/claims refuses to compare runs of different precisions
  int device_rows = 0;
  std::map<std::string, std::string> initial_weights;  // mode -> digest: the two runs of one seed start alike
  for (const auto& e : fs::recursive_directory_iterator(d.path / ".asaflow/objects")) {
    if (e.path().filename() != "results.json") continue;
    auto j = nlohmann::json::parse(read_file(e.path()));
    for (const auto& t : j["tables"]) {  // the report's Device row names the CPU kernels too
      for (const auto& row : t["rows"]) {
        if (row[0] != "Device") continue;
        ++device_rows;
        EXPECT_NE(row[1].get<std::string>().find("other products: " + asaflow::model::cpu_gemm_backend()),
                  std::string::npos)
            << row[1];
        EXPECT_NE(row[1].get<std::string>().find(std::string("softmax kernels: ") +
                                                 asaflow::model::name_of(asaflow::model::cpu_kernel_isa())),
                  std::string::npos)
            << row[1];
      }
    }
    for (const auto& rec : j["records"]) {
      if (rec["metric"] == "target_ppl") found = true;
      if (rec["metric"] == "initial_weights" && rec["value"].get<double>() > 0)
        initial_weights[rec["labels"].value("mode", "")] = rec["labels"].value("sha256", "");
      if (rec["metric"] == "final_val_ppl" && rec["labels"].value("output_precision", "") == "float32")
        ++precision_labels;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(precision_labels, 2);
  EXPECT_EQ(device_rows, 2);
  ASSERT_EQ(initial_weights.size(), 2u);
  EXPECT_EQ(initial_weights["none"].size(), 64u);
  EXPECT_EQ(initial_weights["none"], initial_weights["full"]);
  // config.json names the kernels that computed the run
  const auto config = nlohmann::json::parse(read_file(find_file(d.path / ".asaflow/objects", "config.json")));
  EXPECT_EQ(config.value("cpu_kernels", ""), asaflow::model::name_of(asaflow::model::cpu_kernel_isa()));
  EXPECT_EQ(config.value("output_precision", ""), "float32");
  EXPECT_EQ(config.value("cpu_gemm_layers", ""), asaflow::model::cpu_gemm_backend());
  auto bad = run_asaflow("validate p.yaml", d.path);
  EXPECT_EQ(bad.exit_code, 0);
  write_file(d.path / "q.yaml", pipeline(10, ", mode: fulll"));
  auto unknown = run_asaflow("validate q.yaml", d.path);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(
      unknown.err.find("parameter 'mode': unknown model_mode 'fulll' (did you mean 'full'?); available model_modes: "
                       "features_only, full, none, pos_embed, pos_only"),
      std::string::npos)
      << unknown.err;
}

}  // namespace

// Training says how it goes while it runs: every log_every steps a line with the loss (the
// curve's point), lr, the gradient norm before clipping and tokens/s, named by the cell.
TEST(TrainStage, LogsLossLrGradNormAndThroughputEveryLogEvery) {
  TempDir d;
  write_file(d.path / "p.yaml", pipeline(100));
  auto r = run_asaflow("run p.yaml --threads 1", d.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::regex line(
      R"(\[train\] info: step (50|100)/100  loss [0-9]+\.[0-9]{4}  lr [0-9]\.[0-9]{2}e[-+][0-9]+  grad [0-9.e+-]+  [0-9]+ tok/s)");
  std::size_t found = 0;
  for (const auto& l : lines_of(r.err)) found += std::regex_search(l, line) ? 1 : 0;
  EXPECT_EQ(found, 2u) << r.err;
}
