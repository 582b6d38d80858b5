// save_with_digest (trainer.hpp): a crash at any point of replacing a checkpoint leaves a
// file whose digest is listed beside it, so the rerun resumes instead of starting over.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "asaflow/model/trainer.hpp"
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
