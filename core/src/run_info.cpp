#include "asaflow/run_info.hpp"

#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "asaflow/hash.hpp"
#include "asaflow/text_util.hpp"
#include "asaflow/plugin_api.hpp"
#include "asaflow/version.hpp"

namespace asaflow {
namespace {

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string read_first_line(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// The value of the first /proc/cpuinfo line whose key is exactly `key` ("model" is not
// "model name"); "" when there is none (on aarch64 there is no "cpu family" or "flags").
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name != key) continue;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

std::string cpu_model_name() {
  std::string model = cpuinfo_field("model name");
  return model.empty() ? "unknown" : model;
}

double mem_total_gib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (in >> key) {
    if (key == "MemTotal:") {
      in >> kib;
      break;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return kib / (1024.0 * 1024.0);
}

std::string os_name() {
  std::ifstream in("/etc/os-release");
  std::string line, pretty = "Linux";
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      pretty = line.substr(12);
      if (pretty.size() >= 2 && pretty.front() == '"') pretty = pretty.substr(1, pretty.size() - 2);
    }
  }
  struct utsname u {};
  if (::uname(&u) == 0) pretty += std::string(", kernel ") + u.release;
  return pretty;
}

}  // namespace

std::string git_commit(const std::string& dir) {
  if (dir.empty() || dir.find('\'') != std::string::npos) return "";
  std::string head = run_command("git -C '" + dir + "' rev-parse HEAD 2>/dev/null");
  if (head.size() != 40) return "";
  std::string dirty = run_command("git -C '" + dir + "' status --porcelain 2>/dev/null | head -n 1");
  return head + (dirty.empty() ? "" : " (dirty)");
}

std::string default_history_db(const std::string& dir) {
  std::string root;
  if (!dir.empty() && dir.find('\'') == std::string::npos) {
    root = run_command("git -C '" + dir + "' rev-parse --show-toplevel 2>/dev/null");
  }
  if (root.empty()) root = dir.empty() ? "." : dir;
  return (std::filesystem::path(root) / "reports" / "metrics.sqlite").string();
}

std::string cpu_vector_extension() {
  const std::string flags = " " + cpuinfo_field("flags") + " ";
  if (flags.find(" avx512f ") != std::string::npos) return "avx512f";
  if (flags.find(" avx2 ") != std::string::npos) return "avx2";
  return "";
}

std::string machine_description() {
  std::ostringstream s;
  s << cpu_model_name();
  if (const std::string family = cpuinfo_field("cpu family"); !family.empty()) {
    const std::string isa = cpu_vector_extension();
    s << " (family " << family << ", model " << cpuinfo_field("model") << ", " << (isa.empty() ? "no avx2" : isa)
      << ")";
  }
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  s << "; OPENBLAS_CORETYPE " << (core ? core : "unset");
  if (const char* capability = std::getenv("ATEN_CPU_CAPABILITY")) s << "; ATEN_CPU_CAPABILITY " << capability;
  return s.str();
}

RunInfo RunInfo::collect(int threads, const std::string& data_dir, const std::string& repo_dir) {
  RunInfo info;
  info.date_utc = utc_timestamp();

  // The experiment's commit is that of the repository its pipeline lives in. A copy of a
  // checkout (as a GPU machine gets) may have no .git, or a stale one: the caller may state
  // the commit in ASAFLOW_COMMIT, which the report then marks as stated, beside what git
  // reads there. Else, outside git, asaflow's own sources stand in.
  info.commit = git_commit(repo_dir);
  if (const char* stated = std::getenv("ASAFLOW_COMMIT"); stated && *stated) {
    info.commit = std::string(stated) + " (stated in ASAFLOW_COMMIT; " +
                  (info.commit.empty() ? "not a git checkout" : "git here reads " + info.commit) + ")";
  }
  if (info.commit.empty()) info.commit = git_commit(kSourceDir);
  if (info.commit.empty()) info.commit = "unknown (not a git checkout)";

  info.cpu_model = cpu_model_name();
  info.cpu_cores = int(std::thread::hardware_concurrency());
  info.ram_gib = mem_total_gib();
  info.os = os_name();
  info.compiler = std::string("g++ ") + __VERSION__;
  info.torch_version = ASAFLOW_TORCH_VERSION;
  info.asaflow_version = kVersion;
  info.threads = threads;
  info.data_dir = data_dir;

  std::ostringstream machine;
  machine << info.cpu_model << "|" << info.cpu_cores << "|" << int(info.ram_gib + 0.5) << "|"
          << read_first_line("/etc/machine-id");
  info.device_fingerprint = "cpu:" + sha256_hex(machine.str()).substr(0, 16);

  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    if (!std::filesystem::exists(entry.path() / ".asaflow-verified")) continue;
    std::string dir = entry.path().filename().string();
    auto dash = dir.rfind('-');
    if (dash != std::string::npos) info.data_packages[dir.substr(0, dash)] = dir.substr(dash + 1);
  }
  return info;
}

}  // namespace asaflow
