// The executor in-process: observers that throw (a display, a log) never abort the run nor
// change a result, and a long pipeline keeps at most -j worker threads alive.
#include "asaflow/executor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <fstream>
#include <stdexcept>

#include "asaflow/artifact_store.hpp"
#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/plugin_host.hpp"
#include "corpus_stats.hpp"
#include "test_support.hpp"
#include "text_files.hpp"

using namespace asaflow;
namespace fs = std::filesystem;

namespace {

// The process's virtual size in MB: a thread that ended but was never joined keeps its
// stack (8 MB by default) mapped until it is.
double virtual_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmSize:", 0) == 0) return std::stod(line.substr(7)) / 1024.0;
  return -1;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host.add_static("text_files", "1.0.0", plugins::register_text_files);
    host.add_static("corpus_stats", "1.0.0", plugins::register_corpus_stats);
    test::write_file(dir.path / "data/a.txt", "Some words here. And more words.\n");
  }
  Pipeline load(const std::string& yaml) {
    test::write_file(dir.path / "p.yaml", yaml);
    return load_pipeline(dir.path / "p.yaml", host, PipelineVars{});
  }
  PluginHost host;
  test::TempDir dir;
};

struct Throwing : RunObserver {
  void on_cell_decided(const StageCell&, const CellReport&) override { throw std::runtime_error("decided"); }
  void on_cell_start(const StageCell&, const CellReport&, const Progress&) override {
    throw std::runtime_error("start");
  }
  void on_cell_end(const StageCell&, const CellReport&) override { throw std::runtime_error("end"); }
};

}  // namespace

TEST_F(ExecutorTest, ObserversThatThrowChangeNoResult) {
  Pipeline p = load(
      "stages:\n  words: {uses: dataset/text_files, params: {paths: [data]}}\n"
      "  stats: {uses: metric/corpus_stats, needs: [words]}\n");
  ArtifactStore store(dir.path / "cache");
  Executor ex(p, host, store, RunInfo{});
  Throwing observer;
  ex.add_observer(&observer);
  RunOptions o;
  o.jobs = 2;
  const auto reports = ex.run(o);  // before: std::terminate from a worker thread
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& r : reports) EXPECT_EQ(r.state, CellState::kRan) << r.id << ": " << r.error;
  const auto again = Executor(p, host, store, RunInfo{}).run(o);
  for (const auto& r : again) EXPECT_EQ(r.state, CellState::kCached) << r.id;
}

// 120 independent cells at -j 2: the worker threads of finished cells are joined as the run
// goes. Before, every cell's thread was joined at the end of the run only, its stack mapped
// until then: about 8 MB per cell (12.4 GB at 1,500 cells).
TEST_F(ExecutorTest, FinishedWorkersAreJoinedAsTheRunGoes) {
  std::string values;
  for (int i = 1; i <= 120; ++i) values += (i > 1 ? ", " : "") + std::to_string(i);
  Pipeline p = load("stages:\n  words: {uses: dataset/text_files, params: {paths: [data]}, matrix: {max_files: [" +
                    values + "]}}\n");
  ArtifactStore store(dir.path / "cache");
  Executor ex(p, host, store, RunInfo{});
  struct Peak : RunObserver {
    std::mutex m;
    double most = 0;
    void on_cell_end(const StageCell&, const CellReport&) override {
      std::lock_guard<std::mutex> g(m);
      most = std::max(most, virtual_mb());
    }
  } count;
  const double before = virtual_mb();
  ex.add_observer(&count);
  RunOptions o;
  o.jobs = 2;
  const auto reports = ex.run(o);
  EXPECT_EQ(
      std::count_if(reports.begin(), reports.end(), [](const CellReport& r) { return r.state == CellState::kRan; }),
      120);
  EXPECT_LT(count.most - before, 20 * 8.0) << "MB of address space added during the run";
}

namespace {

class Producing : public StageComponent {
 public:
  explicit Producing(double value)
      : StageComponent(ComponentInfo::of("stage", "producing", "1.0.0").describe("test")), value_(value) {}

 protected:
  void execute(StageContext& ctx) const override { ctx.out.results.add("ppl", value_).labels = {{"seed", "1"}}; }

 private:
  double value_;
};

}  // namespace

// A non-finite figure fails the stage instead of being cached and served to every report.
TEST(StageComponent, ANonFiniteFigureFailsTheStage) {
  StageContext ctx{StageInputs{}};
  Producing(26.3).run(ctx);  // finite: fine
  for (double bad : {std::numeric_limits<double>::infinity(), std::nan("")}) {
    StageContext c{StageInputs{}};
    try {
      Producing(bad).run(c);
      FAIL() << "no error for " << bad;
    } catch (const StageError& e) {
      EXPECT_EQ(std::string(e.what()),
                "stage/producing produced a non-finite value for ppl (seed=1): nothing was cached");
    }
  }
}

// A stage that fails: observers are told to drop its progress (on_cell_detach) while the
// stage's context still exists, before the cell's end.
TEST_F(ExecutorTest, ObserversDropAFailingStagesProgressBeforeItsEnd) {
  host.add_static("producing", "1.0.0", [](Registrar& r) { r.add(std::make_shared<Producing>(std::nan(""))); });
  Pipeline p = load("stages:\n  bad: {uses: producing}\n");
  ArtifactStore store(dir.path / "cache");
  Executor ex(p, host, store, RunInfo{});
  struct Order : RunObserver {
    std::vector<std::string> events;
    const Progress* progress = nullptr;
    void on_cell_start(const StageCell&, const CellReport&, const Progress& pr) override {
      progress = &pr;
      events.push_back("start");
    }
    void on_cell_detach(const StageCell&) override {
      events.push_back("detach " + progress->unit());  // still alive here
      progress = nullptr;
    }
    void on_cell_end(const StageCell&, const CellReport& r) override {
      events.push_back(std::string("end ") + to_string(r.state));
    }
  } order;
  ex.add_observer(&order);
  const auto reports = ex.run(RunOptions{});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].state, CellState::kFailed);
  EXPECT_EQ(order.events, (std::vector<std::string>{"start", "detach items", "end FAILED"}));
}

namespace {

// Reads its `file` parameter's file after replacing it with other bytes: what a user editing
// or swapping an input while a stage runs does (0.03-0.09 s into a run in the probe).
class SwappingReader : public StageComponent {
 public:
  SwappingReader()
      : StageComponent(ComponentInfo::of("stage", "swapping_reader", "1.0.0")
                           .describe("test")
                           .with_params({ParamSpec::path("file", "input")})) {}

 protected:
  void execute(StageContext& ctx) const override {
    const fs::path file = ctx.in.params.get_string("file");
    if (std::getenv("ASAFLOW_TEST_SWAP")) test::write_file(file.string() + ".new", "eleven tokens\n");
    if (std::getenv("ASAFLOW_TEST_SWAP")) fs::rename(file.string() + ".new", file);
    ctx.out.results.add("bytes", fs::is_directory(file) ? 0.0 : double(fs::file_size(file)));
  }
};

}  // namespace

// An input replaced while the stage reads it: the key holds the digest taken before, the
// output was made from other bytes, so nothing is cached and the cell fails saying why.
// Before, the output was cached under the original file's digest.
TEST_F(ExecutorTest, AnInputReplacedDuringTheStageIsNotCachedUnderItsOldDigest) {
  host.add_static("swapping_reader", "1.0.0", [](Registrar& r) { r.add(std::make_shared<SwappingReader>()); });
  const fs::path file = dir.path / "big.txt";
  test::write_file(file, std::string(100000, 'x'));
  Pipeline p = load("stages:\n  read: {uses: swapping_reader, params: {file: '" + file.string() + "'}}\n");
  ArtifactStore store(dir.path / "cache");
  ::setenv("ASAFLOW_TEST_SWAP", "1", 1);
  const auto reports = Executor(p, host, store, RunInfo{}).run(RunOptions{});
  ::unsetenv("ASAFLOW_TEST_SWAP");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].state, CellState::kFailed);
  EXPECT_EQ(reports[0].error,
            "the data of parameter 'file' ('" + file.string() +
                "') changed while the stage read it: nothing was cached; run again once the files stay put");
  EXPECT_FALSE(store.lookup(reports[0].key).has_value());
  // The files now stay put: the next run computes from the new bytes and caches that.
  const auto again = Executor(p, host, store, RunInfo{}).run(RunOptions{});
  ASSERT_EQ(again[0].state, CellState::kRan) << again[0].error;
  EXPECT_NE(again[0].key, reports[0].key);
  EXPECT_EQ(Executor(p, host, store, RunInfo{}).run(RunOptions{})[0].state, CellState::kCached);
}

// The cache directory inside a stage's data directory: the directory's digest would change
// with every result written, so the stage would rerun forever (and, before, failed as
// "changed while the stage read it"). Refused before the stage runs, saying what to move.
TEST_F(ExecutorTest, AStoreInsideADataDirectoryIsRefusedBeforeTheStageRuns) {
  host.add_static("swapping_reader", "1.0.0", [](Registrar& r) { r.add(std::make_shared<SwappingReader>()); });
  test::write_file(dir.path / "data" / "big.txt", "some bytes\n");
  Pipeline p =
      load("stages:\n  read: {uses: swapping_reader, params: {file: '" + (dir.path / "data").string() + "'}}\n");
  ArtifactStore inside(dir.path / "data" / "cache");
  const auto reports = Executor(p, host, inside, RunInfo{}).run(RunOptions{});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].state, CellState::kFailed);
  EXPECT_EQ(reports[0].error, "parameter 'file' names '" + (dir.path / "data").string() +
                                  "', which holds the cache directory '" + (dir.path / "data" / "cache").string() +
                                  "': its digest would change as results are written; keep the cache outside "
                                  "it (--cache-dir)");
  // Beside it, not inside: the same stage runs, then is cached.
  ArtifactStore beside(dir.path / "cache");
  EXPECT_EQ(Executor(p, host, beside, RunInfo{}).run(RunOptions{})[0].state, CellState::kRan);
  EXPECT_EQ(Executor(p, host, beside, RunInfo{}).run(RunOptions{})[0].state, CellState::kCached);
}
