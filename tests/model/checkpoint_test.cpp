// save_with_digest (trainer.hpp): a crash at any point of replacing a checkpoint leaves a
// file whose digest is listed beside it, so the rerun resumes instead of starting over. And
// the training-loss curve: what each point averages, through an epoch's end and a resume.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "asaflow/error.hpp"
#include "asaflow/model/trainer.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using asaflow::model::intact;
using asaflow::model::save_with_digest;

namespace {

std::function<void(const std::string&)> writes(const std::string& text) {
  return [text](const std::string& path) { std::ofstream(path, std::ios::binary) << text; };
}

}  // namespace

TEST(Checkpoint, ACrashAtAnyPointOfASaveLeavesAFileItsDigestsAccept) {
  asaflow::test::TempDir d;
  const fs::path file = d.path / "train_state.pt";
  save_with_digest(file, writes("step 50"));
  ASSERT_TRUE(intact(file));

  // Each point where a crash may land, in order: the file there must be accepted as it is.
  std::vector<std::string> moments;
  save_with_digest(file, writes("step 100"), [&](const char* moment) {
    moments.emplace_back(moment);
    EXPECT_TRUE(intact(file)) << "a crash once " << moment << " leaves '" << asaflow::test::read_file(file)
                              << "' refused: the run would start over";
  });
  EXPECT_EQ(moments, (std::vector<std::string>{"digests listed", "renamed"}));
  EXPECT_EQ(asaflow::test::read_file(file), "step 100");
  EXPECT_TRUE(intact(file));
  {  // a completed save lists the new digest alone: the old contents are refused again
    std::ofstream(file, std::ios::binary) << "step 50";
    EXPECT_FALSE(intact(file));
    std::ofstream(file, std::ios::binary) << "step 100";
    ASSERT_TRUE(intact(file));
  }

  // Two crashes in a row before the rename: the file on disk stays accepted through both
  // and through the save after them.
  for (const char* text : {"step 150", "step 200"}) {
    EXPECT_THROW(save_with_digest(file, writes(text),
                                  [](const char* moment) {
                                    if (std::string(moment) == "digests listed") throw std::runtime_error("crash");
                                  }),
                 std::runtime_error);
    EXPECT_EQ(asaflow::test::read_file(file), "step 100");
    EXPECT_TRUE(intact(file)) << "after a crash saving '" << text << "'";
  }
  save_with_digest(file, writes("step 250"), [&](const char* moment) {
    EXPECT_TRUE(intact(file)) << "a crash once " << moment << ", after two earlier crashes";
  });
  EXPECT_EQ(asaflow::test::read_file(file), "step 250");
  EXPECT_TRUE(intact(file));
}

// Each point of the training-loss curve is the mean loss of the log_every steps up to it,
// also across an epoch's end (7 steps an epoch here) and across a resume from a checkpoint
// taken inside a window (step 8 of the window 7-9). Before, a point was the running mean
// of its epoch so far: it lagged the model and dropped at each epoch's start.
TEST(Trainer, EachTrainingLossPointIsTheMeanOfTheStepsSinceThePrevious) {
  using namespace asaflow::model;
  const auto train = asaflow::test::synthetic(20, 1), valid = asaflow::test::synthetic(6, 2);
  asaflow::test::Modes modes;
  const ModelConfig config = ModelConfig::preset("tiny", 200);
  auto run = [&](std::int64_t log_every, std::int64_t inject_nan_at, const fs::path& dir) {
    TrainOptions o = asaflow::test::small_options();
    o.log_every = log_every;
    o.inject_nan_at_step = inject_nan_at;
    Trainer trainer(config, o, modes.all.at("full"), asaflow::test::pos_matrix(), train, valid, dir);
    return trainer.run();
  };
  asaflow::test::TempDir each_dir, windows_dir, resumed_dir;
  const TrainResult each = run(1, 0, each_dir.path);
  ASSERT_EQ(each.steps_per_epoch, 7);
  ASSERT_EQ(each.train_loss.size(), 12u);
  const TrainResult windows = run(3, 0, windows_dir.path);
  ASSERT_EQ(windows.train_loss.size(), 4u);
  for (std::size_t w = 0; w < 4; ++w) {
    const double mean =
        (each.train_loss[3 * w].second + each.train_loss[3 * w + 1].second + each.train_loss[3 * w + 2].second) / 3;
    EXPECT_EQ(windows.train_loss[w].first, std::int64_t(3 * w + 3));
    EXPECT_NEAR(windows.train_loss[w].second, mean, 1e-9 * mean) << "step " << 3 * w + 3;
  }
  EXPECT_EQ(windows.final_train_loss, windows.train_loss.back().second);

  EXPECT_THROW(run(3, 10, resumed_dir.path), asaflow::StageError);  // the checkpoint of step 8 is kept
  const TrainResult resumed = run(3, 0, resumed_dir.path);
  EXPECT_EQ(resumed.resumed_from_step, 8);
  EXPECT_EQ(resumed.train_loss, windows.train_loss);
}
