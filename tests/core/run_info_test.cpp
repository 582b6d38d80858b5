// RunInfo's commit: read from git where the pipeline lives, or stated by the caller.
#include "asaflow/run_info.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "test_support.hpp"

namespace {

std::string commit_of(const std::string& dir) { return asaflow::RunInfo::collect(1, "", dir).commit; }

// A pipeline in this checkout gets its HEAD; where ASAFLOW_COMMIT is set, the stated commit,
// marked as stated, with what git reads beside it (a GPU machine's copy once carried a stale
// .git: its reports named the wrong commit).
TEST(RunInfo, CommitFromGitElseStatedInTheEnvironment) {
  const std::string head = asaflow::git_commit(ASAFLOW_TEST_SOURCE_DIR);
  if (head.empty()) GTEST_SKIP() << "the sources are not a git checkout here";
  asaflow::test::TempDir outside;
  ::setenv("ASAFLOW_COMMIT", "0123456789abcdef0123456789abcdef01234567", 1);
  EXPECT_EQ(commit_of(outside.path.string()),
            "0123456789abcdef0123456789abcdef01234567 (stated in ASAFLOW_COMMIT; not a git checkout)");
  EXPECT_EQ(commit_of(ASAFLOW_TEST_SOURCE_DIR),
            "0123456789abcdef0123456789abcdef01234567 (stated in ASAFLOW_COMMIT; git here reads " + head + ")");
  ::unsetenv("ASAFLOW_COMMIT");
  EXPECT_EQ(commit_of(ASAFLOW_TEST_SOURCE_DIR), head);
  EXPECT_EQ(commit_of(outside.path.string()), head) << "asaflow's own sources stand in";
}

}  // namespace
