// The content-addressed store behind the cache; the only code that knows its layout.
//
//   <root>/objects/<k0k1>/<key>/manifest.json   committed entry: key record, files, digests
//   <root>/objects/<k0k1>/<key>/out/...         the stage's outputs
//   <root>/tmp/<key>.<pid>.<n>/                 an entry being computed (holds INCOMPLETE)
//   <root>/locks/<key>.lock                     flock()ed while a process computes the key
//   <root>/state/<pipeline>/<cell>.json         the key record of each cell's last run
//   <root>/pins/<name>.json                     keys a user pinned (gc keeps them)
//   <root>/logs/<pipeline>/<cell>.log           the log of each cell's last computation
//   <root>/objects/<k0k1>/<key>/stage.log       the log of the run that made the entry
//   <root>/digest-cache.json                    (path, size, mtime, ctime, inode) -> sha256
//
// An entry is committed by renaming its complete temporary directory into objects/, so a
// reader sees all of it or none. A hit needs the manifest and every file it lists, with the
// recorded size; `verify` re-hashes everything.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asaflow/export.hpp"
#include "asaflow/file_io.hpp"

namespace asaflow {

struct ASAFLOW_API ManifestFile {
  std::string path;  // relative to out/
  std::int64_t size = 0;
  std::string sha256;
};

struct ASAFLOW_API Manifest {
  std::string key;
  nlohmann::json record;  // the canonical key record (what the key was computed from)
  std::vector<ManifestFile> files;
  std::string output_digest;  // digest of all files: what downstream keys depend on
  nlohmann::json meta;        // stage id, wall time, peak memory, dates: never part of a key
};

class ASAFLOW_API ArtifactStore {
 public:
  explicit ArtifactStore(std::filesystem::path root);
  ~ArtifactStore();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path entry_dir(const std::string& key) const;
  std::filesystem::path output_dir(const std::string& key) const { return entry_dir(key) / "out"; }
  // Per-key directory that survives crashes (resumable checkpoints); created on demand.
  std::filesystem::path scratch_dir(const std::string& key) const;

  // The committed entry, when its manifest and every listed file (with its size) exist.
  std::optional<Manifest> lookup(const std::string& key) const;
  // The first file of a committed entry whose content differs from its manifest, in words
  // ("corpus.conllu was modified (sha256 ... expected, ... found)"), or nullopt when all
  // agree. Hashes through the digest cache: a file unchanged in size, mtime, ctime and inode
  // since it was last hashed is not read again.
  std::optional<std::string> damaged_file(const Manifest& manifest);

  // An exclusive OS lock on one key, released on destruction or when the process dies.
  class ASAFLOW_API Lock {
   public:
    Lock() = default;
    explicit Lock(int fd) : fd_(fd) {}
    Lock(Lock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Lock& operator=(Lock&& o) noexcept;
    ~Lock();

   private:
    int fd_ = -1;
  };
  // Blocks until the lock is free; `on_wait` runs once if it has to wait.
  Lock lock(const std::string& key, const std::function<void()>& on_wait = {}) const;
  // True when some process holds the key's lock right now.
  bool locked(const std::string& key) const;

  // A temporary entry being computed. Destroying it uncommitted removes it.
  class ASAFLOW_API Transaction {
   public:
    Transaction(const ArtifactStore& store, std::string key);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    const std::filesystem::path& out_dir() const { return out_; }
    // Copies `file` into the entry beside out/ as `name` (not an output: no digest, no
    // manifest line), e.g. the stage's log. Best effort: a missing file is skipped.
    void keep_beside(const std::filesystem::path& file, const std::string& name);
    // Hashes the outputs, writes the manifest, and renames the entry into place
    // (replacing an existing one, as --force does). Returns the manifest.
    Manifest commit(nlohmann::json record, nlohmann::json meta);

   private:
    const ArtifactStore& store_;
    std::string key_;
    std::filesystem::path dir_;
    std::filesystem::path out_;
    bool committed_ = false;
  };

  void save_state(const std::string& pipeline, const std::string& cell_id, const nlohmann::json& state) const;
  std::optional<nlohmann::json> load_state(const std::string& pipeline, const std::string& cell_id) const;
  // The last failure of a cell (key, error, date) in failures/<pipeline>/, so that `status`
  // can say why a cell is not cached; cleared when the cell succeeds. Best effort: a store
  // that cannot be written records nothing, and says nothing either.
  void record_failure(const std::string& pipeline, const std::string& cell_id,
                      const nlohmann::json& failure) const noexcept;
  void clear_failure(const std::string& pipeline, const std::string& cell_id) const noexcept;
  std::optional<nlohmann::json> load_failure(const std::string& pipeline, const std::string& cell_id) const;
  // Where a cell's log is written while it is computed (kept after a failure), and where a
  // committed entry keeps the log of the run that made it.
  std::filesystem::path cell_log(const std::string& pipeline, const std::string& cell_id) const;
  std::filesystem::path entry_log(const std::string& key) const { return entry_dir(key) / "stage.log"; }

  // Content digest of a file or of a directory tree (relative names + file digests).
  // Files are re-hashed only when size, mtime or inode changed. Throws InputError.
  std::string path_digest(const std::filesystem::path& path);
  void save_digest_cache();

  struct VerifyReport {
    std::size_t checked = 0;
    std::vector<std::string> problems;    // one line per damaged entry (evicted when asked)
    std::vector<std::string> unverified;  // what could not be done: unreadable, not removable
  };
  // Re-hashes every committed entry. Damaged entries are evicted when `evict`; a file that
  // cannot be read or an entry that cannot be removed is said in `unverified`, and the
  // walk goes on.
  VerifyReport verify(bool evict);

  struct GcOptions {
    bool dry_run = false;      // say what would be removed, remove nothing
    bool checkpoints = false;  // also remove resumable checkpoints of interrupted runs
  };
  struct GcReport {
    std::vector<std::string> removed;  // "entry <key> (stage ...)", "temporary ...", "scratch ..."
    std::size_t removed_entries = 0;
    std::size_t removed_temp = 0;
    std::size_t removed_scratch = 0;
    std::uintmax_t freed_bytes = 0;
    std::size_t kept_checkpoints = 0;  // resumable scratch left in place (without `checkpoints`)
    std::uintmax_t kept_checkpoint_bytes = 0;
    std::vector<std::string> errors;  // what could not be removed, and why
  };
  // Removes entries no state file refers to, temporary entries nobody is computing, scratch
  // left by committed entries, and (with `checkpoints`) the scratch of interrupted runs.
  // Nothing a running process holds (its key's lock) is touched.
  GcReport gc(const GcOptions& options);

  // Pins: a named snapshot of the keys a pipeline's cells last produced, kept by gc even
  // after the pipeline changes (an earlier experiment's results). Names: letters, digits,
  // '.', '_', '-'. pin() throws ConfigError for a bad name or a pipeline never run here.
  struct PinInfo {
    std::string name, pipeline, date;
    std::size_t keys = 0;
  };
  PinInfo pin(const std::string& name, const std::string& pipeline);
  std::vector<PinInfo> pins() const;
  bool unpin(const std::string& name);  // false when there is no such pin

  static std::string safe_name(const std::string& id);

  // The manifest of the entry directory `dir` (entry_dir(key)) as written, unchecked
  // (lookup() is the checked read); nullopt when there is none or it does not parse.
  static std::optional<Manifest> read_manifest(const std::filesystem::path& dir);

 private:
  std::filesystem::path cell_record(const char* area, const std::string& pipeline, const std::string& cell_id) const;
  std::string file_digest(const std::filesystem::path& file);

  std::filesystem::path root_;
  struct DigestEntry {
    FileStamp stamp;
    std::string sha256;
  };
  std::mutex digest_mutex_;
  std::map<std::string, DigestEntry> digests_;
  bool digests_dirty_ = false;
};

}  // namespace asaflow
