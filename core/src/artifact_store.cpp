#include "asaflow/artifact_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow {
namespace {

constexpr const char* kIncompleteMarker = "INCOMPLETE";

std::uintmax_t tree_size(const fs::path& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace

ArtifactStore::ArtifactStore(fs::path root) : root_(fs::absolute(std::move(root))) {
  for (const char* sub : {"objects", "tmp", "locks", "state"}) {
    std::error_code ec;
    fs::create_directories(root_ / sub, ec);
    if (ec && !fs::is_directory(root_ / sub)) {
      throw ConfigError("cannot create the cache at '" + root_.string() + "': " + ec.message() + " (see --cache-dir)");
    }
  }
  std::ifstream in(root_ / "digest-cache.json");
  if (in) {
    try {
      json j = json::parse(in);
      for (const auto& [path, e] : j.items()) {
        if (e.size() != 5) continue;  // an older layout without ctime: hashed again
        FileStamp stamp;
        stamp.size = e.at(0);
        stamp.mtime_ns = e.at(1);
        stamp.ctime_ns = e.at(2);
        stamp.inode = e.at(3);
        digests_[path] = DigestEntry{stamp, e.at(4)};
      }
    } catch (const json::exception&) {
      digests_.clear();  // only a speed-up: rebuilt from the files
    }
  }
}

ArtifactStore::~ArtifactStore() {
  try {
    save_digest_cache();
  } catch (...) {
  }
}

std::string ArtifactStore::safe_name(const std::string& id) {
  std::string out;
  for (char c : id) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '=' || c == ',';
    out += ok ? c : '_';
  }
  // Distinct ids must not collide after replacement.
  return out + "." + sha256_hex(id).substr(0, 8);
}

fs::path ArtifactStore::entry_dir(const std::string& key) const { return root_ / "objects" / key.substr(0, 2) / key; }

fs::path ArtifactStore::scratch_dir(const std::string& key) const {
  fs::path dir = root_ / "scratch" / key;
  fs::create_directories(dir);
  return dir;
}

std::optional<Manifest> ArtifactStore::read_manifest(const fs::path& dir) {
  std::ifstream in(dir / "manifest.json");
  if (!in) return std::nullopt;
  try {
    json j = json::parse(in);
    Manifest m;
    m.key = j.at("key");
    m.record = j.at("record");
    m.output_digest = j.at("output_digest");
    m.meta = j.at("meta");
    for (const auto& f : j.at("files")) {
      m.files.push_back(ManifestFile{f.at("path"), f.at("size"), f.at("sha256")});
    }
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<Manifest> ArtifactStore::lookup(const std::string& key) const {
  const fs::path dir = entry_dir(key);
  auto m = read_manifest(dir);
  if (!m || m->key != key) return std::nullopt;
  std::error_code ec;
  if (fs::exists(dir / kIncompleteMarker, ec)) return std::nullopt;
  for (const auto& f : m->files) {
    auto size = fs::file_size(dir / "out" / f.path, ec);
    if (ec || std::int64_t(size) != f.size) return std::nullopt;
  }
  return m;
}

ArtifactStore::Lock& ArtifactStore::Lock::operator=(Lock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

ArtifactStore::Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

ArtifactStore::Lock ArtifactStore::lock(const std::string& key, const std::function<void()>& on_wait) const {
  const fs::path file = root_ / "locks" / (key + ".lock");
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw StageError("cannot open lock '" + file.string() + "': " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (on_wait) on_wait();
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        throw StageError("cannot lock '" + file.string() + "': " + std::strerror(errno));
      }
    }
  }
  return Lock(fd);
}

bool ArtifactStore::locked(const std::string& key) const {
  const fs::path file = root_ / "locks" / (key + ".lock");
  int fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

ArtifactStore::Transaction::Transaction(const ArtifactStore& store, std::string key)
    : store_(store), key_(std::move(key)) {
  static std::atomic<int> counter{0};
  dir_ = store_.root_ / "tmp" / (key_ + "." + std::to_string(::getpid()) + "." + std::to_string(counter++));
  out_ = dir_ / "out";
  fs::create_directories(out_);
  std::ofstream(dir_ / kIncompleteMarker) << "stage running in process " << ::getpid() << "\n";
}

ArtifactStore::Transaction::~Transaction() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

void ArtifactStore::Transaction::keep_beside(const fs::path& file, const std::string& name) {
  std::error_code ec;
  fs::copy_file(file, dir_ / name, fs::copy_options::overwrite_existing, ec);
}

Manifest ArtifactStore::Transaction::commit(json record, json meta) {
  Manifest m;
  m.key = key_;
  m.record = std::move(record);
  m.meta = std::move(meta);
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(out_)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  Sha256 all;
  for (const auto& f : files) {
    ManifestFile mf{fs::relative(f, out_).generic_string(), std::int64_t(fs::file_size(f)), sha256_file(f)};
    all.update(mf.path + "\t" + std::to_string(mf.size) + "\t" + mf.sha256 + "\n");
    m.files.push_back(std::move(mf));
  }
  m.output_digest = all.hex_digest();

  json files_json = json::array();
  for (const auto& f : m.files) files_json.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  json j = {{"key", m.key},
            {"record", m.record},
            {"files", files_json},
            {"output_digest", m.output_digest},
            {"meta", m.meta}};
  {
    std::ofstream out(dir_ / "manifest.json");
    out << j.dump(1) << "\n";
    if (!out) throw StageError("cannot write manifest in '" + dir_.string() + "'");
  }
  fs::remove(dir_ / kIncompleteMarker);

  const fs::path target = store_.entry_dir(key_);
  fs::create_directories(target.parent_path());
  std::error_code ec;
  if (fs::exists(target, ec)) {
    // A forced rerun replaces the entry: move the old one aside first so the rename below
    // still publishes a complete entry in one step.
    fs::path old = dir_;
    old += ".replaced";
    fs::rename(target, old, ec);
    fs::rename(dir_, target);
    fs::remove_all(old, ec);
  } else {
    fs::rename(dir_, target);
  }
  committed_ = true;
  return m;
}

fs::path ArtifactStore::cell_log(const std::string& pipeline, const std::string& cell_id) const {
  return root_ / "logs" / safe_name(pipeline) / (safe_name(cell_id) + ".log");
}

// Per-cell records (state/, failures/): <root>/<area>/<pipeline>/<cell>.json.
fs::path ArtifactStore::cell_record(const char* area, const std::string& pipeline, const std::string& cell_id) const {
  return root_ / area / safe_name(pipeline) / (safe_name(cell_id) + ".json");
}

namespace {

// A per-cell record, or nullopt when it is missing or unreadable (bookkeeping: never fatal).
std::optional<json> read_record(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    return json::parse(in);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

void write_record(const fs::path& file, const json& record) {
  fs::create_directories(file.parent_path());
  write_file_atomically(file, record.dump(1) + "\n");
}

}  // namespace

void ArtifactStore::save_state(const std::string& pipeline, const std::string& cell_id, const json& state) const {
  write_record(cell_record("state", pipeline, cell_id), state);
}

std::optional<json> ArtifactStore::load_state(const std::string& pipeline, const std::string& cell_id) const {
  return read_record(cell_record("state", pipeline, cell_id));
}

void ArtifactStore::record_failure(const std::string& pipeline, const std::string& cell_id,
                                   const json& failure) const noexcept {
  try {
    write_record(cell_record("failures", pipeline, cell_id), failure);
  } catch (...) {
  }
}

void ArtifactStore::clear_failure(const std::string& pipeline, const std::string& cell_id) const noexcept {
  std::error_code ec;
  fs::remove(cell_record("failures", pipeline, cell_id), ec);
}

std::optional<json> ArtifactStore::load_failure(const std::string& pipeline, const std::string& cell_id) const {
  return read_record(cell_record("failures", pipeline, cell_id));
}

std::string ArtifactStore::file_digest(const fs::path& file) {
  // The file's identity (file_io.hpp): unchanged, its remembered digest stands.
  const FileStamp stamp = file_stamp(file);
  if (!stamp.exists()) throw InputError("cannot read '" + file.string() + "': " + std::strerror(errno));
  const std::int64_t mtime = stamp.mtime_ns, ctime = stamp.ctime_ns;
  const std::string key = file.string();
  {
    std::lock_guard<std::mutex> guard(digest_mutex_);
    auto it = digests_.find(key);
    if (it != digests_.end() && it->second.stamp == stamp) return it->second.sha256;
  }
  std::string digest = sha256_file(file);
  // Git's "racy" case: a file written again within the timestamp's granularity right after
  // it was hashed keeps its identity. A file changed in the last two seconds is therefore
  // not remembered; it is hashed again each time until it has been still for a while.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  if (now_ns - std::max(mtime, ctime) < 2'000'000'000) return digest;
  std::lock_guard<std::mutex> guard(digest_mutex_);
  digests_[key] = DigestEntry{stamp, digest};
  digests_dirty_ = true;
  return digest;
}

std::string ArtifactStore::path_digest(const fs::path& path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path);
  if (fs::is_regular_file(abs, ec)) return file_digest(abs);
  if (!fs::is_directory(abs, ec)) {
    throw InputError("'" + abs.string() + "' does not exist or is neither a file nor a directory");
  }
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(abs, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    // Names end up in records and messages (JSON, UTF-8 only); a link loop or an unreadable
    // entry is the input's problem, said with its name, not an exception from the library.
    const std::string name = it->path().string();
    if (find_invalid_utf8(name)) {
      throw InputError("the file name '" + escape_invalid_utf8(name) + "' is not valid UTF-8: rename it");
    }
    std::error_code type_ec;
    const bool regular = it->is_regular_file(type_ec);
    if (type_ec) throw InputError("cannot read '" + name + "': " + type_ec.message());
    if (regular) files.push_back(it->path());
  }
  if (ec) throw InputError("cannot list '" + abs.string() + "': " + ec.message());
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& f : files) {
    h.update(fs::relative(f, abs).generic_string() + "\t" + file_digest(f) + "\n");
  }
  return h.hex_digest();
}

void ArtifactStore::save_digest_cache() {
  std::lock_guard<std::mutex> guard(digest_mutex_);
  if (!digests_dirty_) return;
  json j = json::object();
  for (const auto& [path, e] : digests_) {
    if (find_invalid_utf8(path)) continue;  // not JSON: hashed again next time
    j[path] = json::array({e.stamp.size, e.stamp.mtime_ns, e.stamp.ctime_ns, e.stamp.inode, e.sha256});
  }
  write_file_atomically(root_ / "digest-cache.json", j.dump());
  digests_dirty_ = false;
}

std::optional<std::string> ArtifactStore::damaged_file(const Manifest& m) {
  for (const auto& f : m.files) {
    const fs::path file = output_dir(m.key) / f.path;
    std::error_code ec;
    if (!fs::exists(file, ec)) return f.path + " is missing";
    const std::string actual = file_digest(file);
    if (actual != f.sha256) {
      return f.path + " was modified (sha256 " + f.sha256.substr(0, 12) + " expected, " + actual.substr(0, 12) +
             " found)";
    }
  }
  return std::nullopt;
}

ArtifactStore::VerifyReport ArtifactStore::verify(bool evict) {
  VerifyReport report;
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(root_ / "objects", ec)) {
    for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
      ++report.checked;
      const std::string key = entry.path().filename().string();
      std::string problem;
      auto m = read_manifest(entry.path());
      const std::string stage = m ? m->meta.value("stage_id", "?") : "?";
      const std::string name = "entry " + key.substr(0, 12) + " (stage " + stage + ")";
      if (!m) {
        problem = "missing or unreadable manifest";
      } else {
        for (const auto& f : m->files) {
          const fs::path file = entry.path() / "out" / f.path;
          if (!fs::exists(file, ec)) {
            problem = f.path + " is missing";
            break;
          }
          std::string actual;
          try {
            actual = sha256_file(file);
          } catch (const std::exception& e) {
            // Unreadable is not damaged: say it and go on with the other entries.
            report.unverified.push_back(name + ": " + f.path + " could not be read (" + e.what() + "); not checked");
            break;
          }
          if (actual != f.sha256) {
            problem = f.path + " was modified (sha256 " + f.sha256.substr(0, 12) + " expected, " +
                      actual.substr(0, 12) + " found)";
            break;
          }
        }
      }
      if (problem.empty()) continue;
      if (!evict) {
        report.problems.push_back(name + ": " + problem);
        continue;
      }
      std::error_code rm;
      fs::remove_all(entry.path(), rm);
      if (rm) {
        report.problems.push_back(name + ": " + problem + "; NOT evicted");
        report.unverified.push_back(name + ": could not be evicted (" + rm.message() + "); remove " +
                                    entry.path().string() + " by hand");
      } else {
        report.problems.push_back(name + ": " + problem + "; evicted, the next run recomputes it");
      }
    }
  }
  if (ec) report.unverified.push_back("cannot list " + (root_ / "objects").string() + ": " + ec.message());
  return report;
}

namespace {

bool valid_pin_name(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return name != "." && name != "..";
}

}  // namespace

ArtifactStore::PinInfo ArtifactStore::pin(const std::string& name, const std::string& pipeline) {
  if (!valid_pin_name(name)) {
    throw ConfigError("pin name '" + name + "' must be letters, digits, '.', '_' or '-' (at most 100)");
  }
  json keys = json::object();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "state" / safe_name(pipeline), ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    try {
      keys[e.path().stem().string()] = json::parse(in).at("key");
    } catch (const json::exception&) {
    }
  }
  if (keys.empty()) throw ConfigError("pipeline '" + pipeline + "' has no results in this cache to pin: run it first");
  PinInfo info{name, pipeline, utc_timestamp(), keys.size()};
  fs::create_directories(root_ / "pins");
  write_file_atomically(root_ / "pins" / (name + ".json"),
                        json{{"pipeline", pipeline}, {"date", info.date}, {"keys", keys}}.dump(1) + "\n");
  return info;
}

std::vector<ArtifactStore::PinInfo> ArtifactStore::pins() const {
  std::vector<PinInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "pins", ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    try {
      const json j = json::parse(in);
      out.push_back({e.path().stem().string(), j.value("pipeline", "?"), j.value("date", "?"), j.at("keys").size()});
    } catch (const json::exception&) {
      out.push_back({e.path().stem().string(), "(unreadable pin file)", "?", 0});
    }
  }
  std::sort(out.begin(), out.end(), [](const PinInfo& a, const PinInfo& b) { return a.name < b.name; });
  return out;
}

bool ArtifactStore::unpin(const std::string& name) {
  if (!valid_pin_name(name)) return false;
  std::error_code ec;
  return fs::remove(root_ / "pins" / (name + ".json"), ec);
}

ArtifactStore::GcReport ArtifactStore::gc(const GcOptions& options) {
  GcReport report;
  std::set<std::string> live;
  std::error_code ec;
  // Pinned keys live as long as their pin. An unreadable pin file stops gc: deleting what
  // it may protect would lose results the user asked to keep.
  for (const auto& e : fs::directory_iterator(root_ / "pins", ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    try {
      const json pin = json::parse(in);  // named: a temporary in the range would dangle
      for (const auto& [cell, key] : pin.at("keys").items()) live.insert(key.get<std::string>());
    } catch (const json::exception&) {
      throw ConfigError("cannot read the pin '" + e.path().string() + "': fix or remove it before gc");
    }
  }
  ec.clear();
  for (auto it = fs::recursive_directory_iterator(root_ / "state", ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json") continue;
    std::ifstream in(it->path());
    try {
      json j = json::parse(in);
      live.insert(j.at("key").get<std::string>());
    } catch (const json::exception&) {
    }
  }
  auto remove = [&](const fs::path& path, const std::string& what, std::size_t& counter) {
    const std::uintmax_t size = tree_size(path);
    if (!options.dry_run) {
      std::error_code rm;
      fs::remove_all(path, rm);
      if (rm) {
        report.errors.push_back("could not remove " + path.string() + ": " + rm.message());
        return;
      }
    }
    report.removed.push_back(what);
    report.freed_bytes += size;
    ++counter;
  };
  for (const auto& shard : fs::directory_iterator(root_ / "objects", ec)) {
    for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
      const std::string key = entry.path().filename().string();
      if (live.count(key) || locked(key)) continue;
      auto m = read_manifest(entry.path());
      remove(entry.path(), "entry " + key.substr(0, 12) + " (stage " + (m ? m->meta.value("stage_id", "?") : "?") + ")",
             report.removed_entries);
    }
  }
  for (const auto& entry : fs::directory_iterator(root_ / "tmp", ec)) {
    const std::string name = entry.path().filename().string();
    const std::string key = name.substr(0, name.find('.'));
    if (locked(key)) continue;
    remove(entry.path(), "temporary " + name.substr(0, 12) + " (an interrupted computation)", report.removed_temp);
  }
  // scratch/<key>: a stage's resumable state (training checkpoints). Once its entry is
  // committed it is a leftover; before, it is what a rerun resumes from, so kept unless asked.
  for (const auto& entry : fs::directory_iterator(root_ / "scratch", ec)) {
    const std::string key = entry.path().filename().string();
    if (locked(key)) continue;
    std::error_code e2;
    if (fs::exists(entry_dir(key) / "manifest.json", e2)) {
      remove(entry.path(), "scratch " + key.substr(0, 12) + " (its entry is committed)", report.removed_scratch);
    } else if (options.checkpoints) {
      remove(entry.path(), "checkpoint " + key.substr(0, 12) + " (an interrupted run's)", report.removed_scratch);
    } else {
      ++report.kept_checkpoints;
      report.kept_checkpoint_bytes += tree_size(entry.path());
    }
  }
  return report;
}

}  // namespace asaflow
