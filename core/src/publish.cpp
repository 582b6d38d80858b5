#include "asaflow/publish.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace asaflow {
namespace {

constexpr const char* kMarker = ".asaflow-published";

// The files an entry publishes, relative to out/ (sorted: the marker lists them).
std::vector<fs::path> entry_files(const fs::path& out_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(out_dir)) {
    if (e.is_regular_file()) files.push_back(fs::relative(e.path(), out_dir));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// True when `target` already holds this key's publication in this mode, whole.
bool up_to_date(const PublishRequest& r, const std::vector<fs::path>& files) {
  std::ifstream in(r.target / kMarker);
  if (!in) return false;
  json marker;
  try {
    in >> marker;
    if (marker.at("key") != r.key || marker.at("mode") != r.mode) return false;
  } catch (const json::exception&) {
    return false;
  }
  std::error_code ec;
  for (const auto& f : files) {
    const fs::path published = r.target / f;
    // A symbolic link must still point at the entry; a copy must still have its size.
    if (r.mode == "symlink" ? fs::read_symlink(published, ec) != r.out_dir / f
                            : fs::file_size(published, ec) != fs::file_size(r.out_dir / f, ec)) {
      return false;
    }
    if (ec) return false;
  }
  return true;
}

}  // namespace

fs::path publish_target(const StageSpec& stage, const StageCell& cell) {
  if (stage.publish.empty()) return {};
  if (cell.matrix.empty()) return stage.publish;
  std::string name;
  for (const auto& [key, value] : cell.matrix) {
    name += (name.empty() ? "" : ",") + key + "=" + value;
  }
  for (char& c : name) {
    if (c == '/' || c == '\0') c = '_';
  }
  return stage.publish / name;
}

bool publish(const PublishRequest& r) {
  const auto files = entry_files(r.out_dir);
  std::error_code ec;
  if (fs::exists(r.target, ec) || fs::is_symlink(r.target, ec)) {
    if (!fs::is_directory(r.target, ec) || !fs::exists(r.target / kMarker, ec)) {
      throw InputError("publish: refusing to replace '" + r.target.string() + "' (for " + r.cell_id +
                       "): asaflow did not publish it (no " + kMarker +
                       "); move it away or change the stage's 'publish'");
    }
    if (up_to_date(r, files)) return false;
  }
  // Built beside the target, then swapped in by renames: a crash leaves the old
  // publication or the new one, plus at most a hidden temporary.
  static std::atomic<int> counter{0};
  const std::string suffix = std::to_string(::getpid()) + "." + std::to_string(counter++);
  const fs::path parent = r.target.parent_path();
  const fs::path fresh = parent / ("." + r.target.filename().string() + ".publishing." + suffix);
  const fs::path old = parent / ("." + r.target.filename().string() + ".replaced." + suffix);
  struct Cleanup {
    fs::path fresh, old;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(fresh, ignored);
      fs::remove_all(old, ignored);
    }
  } cleanup{fresh, old};
  try {
    fs::create_directories(fresh);
    json listed = json::array();
    for (const auto& f : files) {
      fs::create_directories((fresh / f).parent_path());
      if (r.mode == "symlink")
        fs::create_symlink(r.out_dir / f, fresh / f);
      else
        fs::copy_file(r.out_dir / f, fresh / f);
      listed.push_back(f.generic_string());
    }
    if (fs::exists(r.log_file, ec)) fs::copy_file(r.log_file, fresh / "stage.log");
    const json marker = {
        {"cell", r.cell_id}, {"key", r.key}, {"mode", r.mode}, {"store", r.out_dir.string()}, {"files", listed}};
    write_file_atomically(fresh / kMarker, marker.dump(1) + "\n");
    if (fs::exists(r.target, ec)) fs::rename(r.target, old);
    fs::rename(fresh, r.target);
  } catch (const fs::filesystem_error& e) {
    throw StageError("publish: cannot publish " + r.cell_id + " to '" + r.target.string() + "': " + e.code().message() +
                     " (the results are safe in the store)");
  }
  return true;
}

std::string file_url(const fs::path& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string url = "file://";
  for (unsigned char c : fs::absolute(path).lexically_normal().string()) {
    if (std::isalnum(c) || std::strchr("/-._~", c)) {
      url += char(c);
    } else {
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 15];
    }
  }
  return url;
}

}  // namespace asaflow
