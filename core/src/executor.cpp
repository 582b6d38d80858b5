#include "asaflow/executor.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "asaflow/artifact_store.hpp"
#include "asaflow/cell_executor.hpp"
#include "asaflow/cache_key.hpp"
#include "asaflow/dag.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/logging.hpp"
#include "asaflow/memory_usage.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "asaflow/remote_cell.hpp"
#include "cell_inputs.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow {

RunObserver::~RunObserver() = default;

namespace {

json params_json(const Params& params) {
  json j = json::object();
  for (const auto& [k, v] : params.values()) {
    j[k] = param_to_json(v);
  }
  return j;
}

// Whether `inner` is `dir` or lies below it (both resolved: links, "..").
bool is_within(const fs::path& inner, const fs::path& dir) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(inner, ec), b = fs::weakly_canonical(dir, ec);
  if (ec || !fs::is_directory(b, ec)) return false;
  auto [end, it] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return end == b.end() || (std::next(end) == b.end() && end->empty());  // "dir/" ends in ""
}

// A path parameter's value as written: one path, or a list joined by ", ".
std::string path_value(const StageCell& cell, const std::string& name) {
  for (const auto& spec : cell.component->info.params) {
    if (spec.name != name) continue;
    if (spec.type == ParamType::kPath) return cell.params.get_string(name);
    std::string joined;
    for (const auto& p : cell.params.get_strings(name)) joined += (joined.empty() ? "" : ", ") + p;
    return joined;
  }
  return "";
}

}  // namespace

struct Executor::Impl {
  enum class Phase { kPending, kRunning, kDone };
  Executor& ex;
  const RunOptions& opt;
  std::vector<CellReport> reports;
  std::vector<Phase> phase;
  std::vector<std::string> output_digest;  // known once cached or ran
  std::vector<bool> forced;
  std::vector<json> records;
  std::mutex mutex;
  std::mutex host_mutex;  // PluginHost is not thread-safe
  std::condition_variable cv;
  int running = 0;
  std::atomic<bool> stop_launching{false};  // set by workers, and when the scheduler throws
  // One thread per running cell, joined as soon as its cell is done, so at most `jobs`
  // are alive (a thread per cell kept to the end took 12 GB of address space at 1,500
  // cells). Always joined, also when the scheduler throws (WorkerJoiner): a joinable
  // std::thread destroyed during unwinding would abort the process.
  std::vector<std::pair<std::size_t, std::thread>> threads;
  struct WorkerJoiner {
    Impl& impl;
    ~WorkerJoiner() {
      for (auto& [i, t] : impl.threads)
        if (t.joinable()) t.join();
    }
  };

  // Writing a cell's state file is bookkeeping for status and why: a store that refuses
  // it (read-only, full) must not fail a cached or computed cell. Said once, as a warning.
  bool state_warned = false;
  void save_state_or_warn(std::size_t i, const std::string& key, const json& record) {
    try {
      save_state(i, key, record);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> guard(host_mutex);
      if (!state_warned)
        named_logger("asaflow")->warn("cannot record the run's state in the store ({}); results are unaffected",
                                      e.what());
      state_warned = true;
    }
  }

  Impl(Executor& e, const RunOptions& o) : ex(e), opt(o) {
    const auto& cells = ex.pipeline_.cells;
    reports.resize(cells.size());
    phase.assign(cells.size(), Phase::kPending);
    output_digest.resize(cells.size());
    records.resize(cells.size());
    forced.assign(cells.size(), false);
    for (std::size_t i = 0; i < cells.size(); ++i) reports[i].id = cells[i].id;
    forced = forced_cells(ex.pipeline_, opt.force, opt.force_downstream);
  }

  // Observers (progress, logs) are told; their failures do not change any result.
  void notify_decided(std::size_t i) {
    try {
      for (auto* o : ex.observers_) o->on_cell_decided(ex.pipeline_.cells[i], reports[i]);
    } catch (...) {
    }
  }

  // Digests of the data files and directories cell i's path parameters name. Through the
  // store's digest cache: a file whose identity (inode, size, mtime, ctime) is unchanged is
  // not read again, so calling this twice per run costs a stat per file.
  std::map<std::string, std::string> data_digests(std::size_t i) {
    const StageCell& cell = ex.pipeline_.cells[i];
    std::map<std::string, std::string> data;
    // A data directory holding the store would change its own digest as results are
    // written: the stage could never be cached.
    auto digest = [&](const std::string& name, const std::string& path) {
      if (is_within(ex.store_.root(), path)) {
        throw InputError("parameter '" + name + "' names '" + path + "', which holds the cache directory '" +
                         ex.store_.root().string() +
                         "': its digest would change as results are written; keep the cache outside it "
                         "(--cache-dir)");
      }
      return ex.store_.path_digest(path);
    };
    for (const auto& spec : cell.component->info.params) {
      if (spec.type == ParamType::kPath) {
        const std::string& path = cell.params.get_string(spec.name);
        if (!path.empty()) data[spec.name] = digest(spec.name, path);
      } else if (spec.type == ParamType::kPathList) {
        Sha256 combined;
        for (const auto& p : cell.params.get_strings(spec.name)) {
          combined.update(digest(spec.name, p) + "\n");
        }
        data[spec.name] = combined.hex_digest();
      }
    }
    return data;
  }

  // The key holds the data digests taken before the stage ran; a file replaced or edited
  // while the stage read it would put other bytes under that key. So they are taken again
  // after the stage and must agree, or nothing is cached.
  void check_data_unchanged(std::size_t i) {
    const json& before = records[i].at("data");
    for (const auto& [name, digest] : data_digests(i)) {
      if (before.value(name, "") != digest) {
        throw InputError("the data of parameter '" + name + "' ('" + path_value(ex.pipeline_.cells[i], name) +
                         "') changed while the stage read it: nothing was cached; "
                         "run again once the files stay put");
      }
    }
  }

  // Builds the key record of cell i; every upstream output digest must be known.
  json record_of(std::size_t i) {
    const StageCell& cell = ex.pipeline_.cells[i];
    KeyInputs in;
    in.component = cell.component;
    in.params = &cell.params;
    for (std::size_t d : cell.deps) {
      // A failed input (for tolerant components) enters the key as such, so the stage
      // reruns once that input succeeds.
      const bool failed = reports[d].state == CellState::kFailed || reports[d].state == CellState::kSkipped;
      in.upstream[ex.pipeline_.cells[d].id] = failed ? "failed" : output_digest[d];
    }
    in.data = data_digests(i);
    if (cell.component->info.device_dependent) in.device = ex.run_info_.device_fingerprint;
    std::lock_guard<std::mutex> guard(host_mutex);
    for (const auto& spec : cell.component->info.params) {
      if (spec.component_kind.empty()) continue;
      const ComponentEntry& used = ex.host_.require(spec.component_kind, cell.params.get_string(spec.name));
      in.uses[used.info.qualified_name()] = {used.info.version, used.library_digest};
    }
    return key_record(in);
  }

  std::vector<std::string> reasons_for(std::size_t i, const std::string& key, const json& record) {
    if (forced[i]) return {"forced (--force)"};
    if (auto failure = ex.store_.load_failure(ex.pipeline_.name, ex.pipeline_.cells[i].id);
        failure && failure->value("key", "") == key) {
      return {"failed last time (" + failure->value("date", "?") + "): " + failure->value("error", "?")};
    }
    auto state = ex.store_.load_state(ex.pipeline_.name, ex.pipeline_.cells[i].id);
    if (!state) return {"never run"};
    if (state->value("key", "") == key) {
      return {"its cache entry is missing or incomplete (evicted, interrupted or tampered)"};
    }
    auto changes = explain_changes(state->value("record", json::object()), record);
    if (changes.empty()) changes.push_back("cache key changed");
    return changes;
  }

  void save_state(std::size_t i, const std::string& key, const json& record) {
    ex.store_.save_state(ex.pipeline_.name, ex.pipeline_.cells[i].id,
                         json{{"key", key}, {"record", record}, {"date", utc_timestamp()}});
  }

  // Decides cell i on the scheduler thread. Returns true if it must be computed.
  bool decide(std::size_t i) {
    const StageCell& cell = ex.pipeline_.cells[i];
    CellReport& r = reports[i];
    const bool tolerant = cell.component->info.accepts_failed_inputs;
    for (std::size_t d : cell.deps) {
      CellState ds = reports[d].state;
      if ((ds == CellState::kFailed || ds == CellState::kSkipped) && tolerant) continue;
      if (ds == CellState::kFailed || ds == CellState::kSkipped) {
        r.state = CellState::kSkipped;
        r.reasons = {"upstream '" + reports[d].id + "' " + (ds == CellState::kFailed ? "failed" : "was skipped")};
        return false;
      }
      if (ds == CellState::kStale || ds == CellState::kBlocked) {
        r.state = CellState::kBlocked;
        r.reasons = {"upstream '" + reports[d].id + "' must run first"};
        return false;
      }
    }
    try {
      records[i] = record_of(i);
    } catch (const Error& e) {
      r.state = CellState::kFailed;
      r.error = e.what();
      r.error_code = e.exit_code();
      return false;
    }
    r.key = key_of(records[i]);
    if (!forced[i]) {
      if (auto m = ex.store_.lookup(r.key)) {
        r.state = CellState::kCached;
        r.output_dir = ex.store_.output_dir(r.key);
        r.wall_seconds = m->meta.value("wall_seconds", 0.0);
        r.peak_rss_mb = m->meta.value("peak_rss_mb", 0.0);
        output_digest[i] = m->output_digest;
        if (!opt.dry_run) save_state_or_warn(i, r.key, records[i]);
        return false;
      }
    }
    r.reasons = reasons_for(i, r.key, records[i]);
    r.state = CellState::kStale;
    if (!opt.only_cell.empty() && cell.id != opt.only_cell && !opt.dry_run) {
      r.state = CellState::kFailed;
      r.error = "not in the cache (" + join(r.reasons, "; ") + "): --cell computes only '" + opt.only_cell +
                "', whose inputs must be committed first";
      r.error_code = ExitCode::kStageFailed;
      return false;
    }
    return !opt.dry_run;
  }

  // Runs on a worker thread; nothing escapes it (an exception leaving a thread's function
  // terminates the process).
  void compute(std::size_t i, std::shared_ptr<StageComponent> component) noexcept {
    try {
      compute_cell(i, std::move(component));
    } catch (const std::exception& e) {
      fail_late(i, std::string("unexpected error: ") + e.what());
    } catch (...) {
      fail_late(i, "unexpected error");
    }
  }

  // The last resort when reporting a cell's end itself threw (an observer, the store):
  // record the failure without calling anything that could throw again.
  void fail_late(std::size_t i, const std::string& error) noexcept {
    std::lock_guard<std::mutex> guard(mutex);
    if (phase[i] == Phase::kDone) return;  // finish() got through; what threw came after
    reports[i].state = CellState::kFailed;
    reports[i].error = error;
    reports[i].error_code = ExitCode::kStageFailed;
    phase[i] = Phase::kDone;
    --running;
    if (opt.fail_fast) stop_launching = true;
    cv.notify_all();
  }

  // Whether cell i runs as a job of the run's executor rather than in this process.
  bool runs_remotely(std::size_t i) const {
    if (!opt.executor) return false;
    for (std::size_t d : ex.pipeline_.cells[i].deps) {
      if (reports[d].state == CellState::kFailed || reports[d].state == CellState::kSkipped) return false;
    }
    return true;
  }

  // Cell i as a job of the run's executor, which commits to the store (remote_cell.hpp).
  void compute_remote_cell(std::size_t i) {
    const StageCell& cell = ex.pipeline_.cells[i];
    CellReport r = reports[i];
    try {
      const auto log = named_logger(cell.id);
      const Manifest m = compute_remotely(*opt.executor, ex.store_, job_of(ex.pipeline_, cell, r.key, forced[i], opt),
                                          [&](const std::string& line) { log->info("{}", line); });
      r.state = CellState::kRan;
      r.output_dir = ex.store_.output_dir(r.key);
      r.wall_seconds = m.meta.value("wall_seconds", 0.0);
      r.peak_rss_mb = m.meta.value("peak_rss_mb", 0.0);
      finish(i, r, m.output_digest);
    } catch (const Error& e) {
      fail(i, r, e.what(), e.exit_code());
    }
  }

  // Cell i failed with `error`: recorded and reported like every other ending (finish()).
  void fail(std::size_t i, CellReport& r, const std::string& error, ExitCode code) {
    r.state = CellState::kFailed;
    r.error = error;
    r.error_code = code;
    finish(i, r, "");
  }

  void compute_cell(std::size_t i, std::shared_ptr<StageComponent> component) {
    if (runs_remotely(i)) return compute_remote_cell(i);
    const StageCell& cell = ex.pipeline_.cells[i];
    CellReport r = reports[i];
    // A follower rank of a data-parallel group computes beside rank 0, which holds the
    // key's lock and alone commits: no lock, and its transaction is never committed.
    const bool follower = opt.rank.rank > 0;
    try {
      std::optional<ArtifactStore::Lock> lock;
      if (!follower)
        lock.emplace(ex.store_.lock(r.key, [&] {
          for (auto* o : ex.observers_) o->on_cell_waiting(cell);
        }));
      std::optional<Manifest> done = forced[i] || follower ? std::nullopt : ex.store_.lookup(r.key);
      if (done) {
        // Another process computed it while we waited for the lock.
        r.state = CellState::kCached;
        r.reasons = {"computed by a concurrent run"};
        r.output_dir = ex.store_.output_dir(r.key);
        finish(i, r, done->output_digest);
        return;
      }
      ArtifactStore::Transaction tx(ex.store_, r.key);
      StageInputs in;
      in.pipeline_name = ex.pipeline_.name;
      in.stage_id = cell.id;
      in.stage_name = ex.pipeline_.stages[cell.stage].name;
      in.pipeline_dir = ex.pipeline_.dir;
      in.params = cell.params;
      for (std::size_t d : cell.deps) {
        const CellReport& up = reports[d];
        if (up.state == CellState::kFailed || up.state == CellState::kSkipped) {
          in.failed_inputs.push_back(FailedInput{up.id, ex.pipeline_.cells[d].component->info.qualified_name(),
                                                 up.state == CellState::kFailed ? up.error : join(up.reasons, "; ")});
        } else {
          in.inputs.push_back(committed_input(ex.store_, reports[d].id, reports[d].key));
        }
      }
      in.run_info = ex.run_info_;
      in.cache_key = r.key;
      in.rank = opt.rank;
      if (!opt.job_command.empty()) {
        in.cell_command = opt.job_command;
        in.cell_command.insert(in.cell_command.end(), {"--cell", cell.id});
      }
      in.resolve = [this](const std::string& kind, const std::string& name) {
        std::lock_guard<std::mutex> guard(host_mutex);
        return ex.host_.instantiate(ex.host_.require(kind, name));
      };
      StageContext ctx(std::move(in));
      ctx.out.dir = tx.out_dir();
      // Named by the cell: with -j 2, two cells of one stage are told apart in the log. Its
      // lines also go to the cell's log file, kept with the entry when it commits.
      const std::filesystem::path log_file = ex.store_.cell_log(ex.pipeline_.name, cell.id);
      ctx.out.log = cell_logger(cell.id, log_file);
      ctx.out.resume_dir = ex.store_.scratch_dir(r.key);
      ctx.out.live_dir = log_file.parent_path() / ArtifactStore::safe_name(cell.id) / r.key.substr(0, 12);
      std::error_code live_ec;
      std::filesystem::create_directories(ctx.out.live_dir, live_ec);  // best effort, as the log
      try {
        for (auto* o : ex.observers_) o->on_cell_start(cell, r, ctx.out.progress);
      } catch (...) {
      }
      // Declared after ctx, so destroyed before it, also when the stage throws: observers
      // drop their reference to ctx.out.progress while it still exists (before, a display
      // thread could read it after it was freed).
      struct Detach {
        Impl& impl;
        const StageCell& cell;
        ~Detach() {
          for (auto* o : impl.ex.observers_) {
            try {
              o->on_cell_detach(cell);
            } catch (...) {
            }
          }
        }
      } detach{*this, cell};

      const std::string started = utc_timestamp();
      reset_peak_rss();
      auto t0 = std::chrono::steady_clock::now();
      component->run(ctx);
      if (follower) {
        r.state = CellState::kRan;
        r.reasons = {"rank " + std::to_string(opt.rank.rank) + " of " + std::to_string(opt.rank.world_size) +
                     ": rank 0 commits"};
        return finish(i, r, "");
      }
      check_data_unchanged(i);
      r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.peak_rss_mb = peak_rss_mb();
      ctx.out.results.save(tx.out_dir() / "results.json");

      json meta = {{"pipeline", ex.pipeline_.name},
                   {"stage_id", cell.id},
                   {"stage_name", ctx.in.stage_name},
                   {"component", cell.component->info.qualified_name()},
                   {"component_version", cell.component->info.version},
                   {"matrix", cell.matrix},
                   {"params", params_json(cell.params)},
                   {"started", started},
                   {"finished", utc_timestamp()},
                   {"wall_seconds", r.wall_seconds},
                   {"peak_rss_mb", r.peak_rss_mb},
                   {"peak_rss_scope", opt.jobs > 1 ? "process (parallel stages)" : "stage"},
                   {"device", ex.run_info_.device_fingerprint},
                   {"machine", ex.machine_},
                   {"commit", ex.run_info_.commit}};
      ctx.out.log->flush();
      tx.keep_beside(log_file, "stage.log");
      Manifest m = tx.commit(records[i], meta);
      std::error_code ec;
      std::filesystem::remove_all(ctx.out.resume_dir, ec);  // committed: nothing left to resume
      r.state = CellState::kRan;
      r.output_dir = ex.store_.output_dir(r.key);
      finish(i, r, m.output_digest);
    } catch (const Error& e) {
      fail(i, r, e.what(), e.exit_code());
    } catch (const std::exception& e) {
      fail(i, r, std::string("unexpected error: ") + e.what(), ExitCode::kStageFailed);
    }
  }

  void finish(std::size_t i, const CellReport& r, const std::string& digest) {
    if (opt.rank.rank > 0) {  // a follower rank records nothing: rank 0 does
    } else if (r.state == CellState::kRan || r.state == CellState::kCached) {
      save_state_or_warn(i, r.key, records[i]);
      ex.store_.clear_failure(ex.pipeline_.name, r.id);
    } else if (r.state == CellState::kFailed && !opt.dry_run && !r.key.empty()) {
      ex.store_.record_failure(ex.pipeline_.name, r.id,
                               json{{"key", r.key}, {"error", r.error}, {"date", utc_timestamp()}});
    }
    try {
      for (auto* o : ex.observers_) o->on_cell_end(ex.pipeline_.cells[i], r);
    } catch (...) {
      // An observer's failure (a display, a log) does not change the cell's result.
    }
    std::lock_guard<std::mutex> guard(mutex);
    reports[i] = r;
    output_digest[i] = digest;
    phase[i] = Phase::kDone;
    --running;
    if (r.state == CellState::kFailed && opt.fail_fast) stop_launching = true;
    cv.notify_all();
  }

  std::vector<CellReport> run() {
    const auto& cells = ex.pipeline_.cells;
    const int jobs = std::max(1, opt.jobs);
    WorkerJoiner joiner{*this};  // declared before the lock: released first when unwinding
    std::unique_lock<std::mutex> lock(mutex);
    // If the scheduler throws, start nothing more; the joiner then waits for what runs.
    struct StopOnThrow {
      Impl& impl;
      int uncaught = std::uncaught_exceptions();
      ~StopOnThrow() {
        if (std::uncaught_exceptions() > uncaught) impl.stop_launching = true;
      }
    } stop_on_throw{*this};
    while (true) {
      // Join the threads whose cells are done (finish() has released the mutex: they only
      // return from here on).
      for (auto it = threads.begin(); it != threads.end();) {
        if (phase[it->first] == Phase::kDone) {
          it->second.join();
          it = threads.erase(it);
        } else {
          ++it;
        }
      }
      bool progressed = false;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (phase[i] != Phase::kPending) continue;
        bool ready = true;
        for (std::size_t d : cells[i].deps) ready = ready && phase[d] == Phase::kDone;
        if (!ready) continue;
        if (stop_launching) {
          reports[i].state = CellState::kSkipped;
          reports[i].reasons = {"not started: an earlier stage failed (--fail-fast)"};
          for (std::size_t d : cells[i].deps) {
            if (reports[d].state == CellState::kFailed || reports[d].state == CellState::kSkipped) {
              reports[i].reasons = {"upstream '" + reports[d].id + "' " +
                                    (reports[d].state == CellState::kFailed ? "failed" : "was skipped")};
              break;
            }
          }
          phase[i] = Phase::kDone;
          notify_decided(i);
          progressed = true;
          continue;
        }
        if (running >= jobs) break;
        lock.unlock();
        bool must_run = false;
        try {
          must_run = decide(i);
        } catch (const std::exception& e) {  // a damaged or unreadable store, say
          reports[i].state = CellState::kFailed;
          reports[i].error = e.what();
          reports[i].error_code = ExitCode::kStageFailed;
        }
        std::shared_ptr<StageComponent> component;
        if (must_run) {
          try {
            std::lock_guard<std::mutex> guard(host_mutex);
            component = std::dynamic_pointer_cast<StageComponent>(ex.host_.instantiate(*cells[i].component));
            if (!component) {
              throw ConfigError(cells[i].component->info.qualified_name() +
                                " cannot run as a pipeline stage (it is used by other stages)");
            }
          } catch (const Error& e) {
            reports[i].state = CellState::kFailed;
            reports[i].error = e.what();
            reports[i].error_code = e.exit_code();
            must_run = false;
          }
        }
        lock.lock();
        progressed = true;
        if (!must_run) {
          phase[i] = Phase::kDone;
          if (reports[i].state == CellState::kFailed && opt.fail_fast) stop_launching = true;
          lock.unlock();
          notify_decided(i);
          if (reports[i].state == CellState::kFailed) {
            try {
              for (auto* o : ex.observers_) o->on_cell_end(cells[i], reports[i]);
            } catch (...) {
            }
          }
          lock.lock();
          continue;
        }
        phase[i] = Phase::kRunning;
        ++running;
        lock.unlock();
        notify_decided(i);
        lock.lock();
        threads.emplace_back(i, std::thread([this, i, component] { compute(i, component); }));
      }
      bool all_done = true;
      for (auto p : phase) all_done = all_done && p == Phase::kDone;
      if (all_done) break;
      if (!progressed || running >= jobs) cv.wait(lock);
    }
    lock.unlock();
    for (auto& [i, t] : threads) t.join();
    threads.clear();
    try {
      ex.store_.save_digest_cache();
    } catch (const std::exception& e) {  // a cache of digests only: the next run recomputes them
      named_logger("asaflow")->warn("cannot save the digest cache ({})", e.what());
    }
    return reports;
  }
};

Executor::Executor(const Pipeline& pipeline, PluginHost& host, ArtifactStore& store, RunInfo run_info)
    : pipeline_(pipeline), host_(host), store_(store), run_info_(std::move(run_info)) {}

std::vector<CellReport> Executor::run(const RunOptions& options) {
  Impl impl(*this, options);
  return impl.run();
}

}  // namespace asaflow
