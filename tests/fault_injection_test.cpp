// The fault-injection loop: a pipeline is run again and again on one store while faults are
// injected (kill -9 at a random moment, each kind of store file damaged or removed, an input
// swapped mid-run, leftovers of dead processes). After each fault the user's recovery is
// `run`, `cache verify`, `run`; the invariant is that every cell's final output is byte for
// byte what a clean run on a fresh store produces. The random schedule is seeded (printed
// with each failure), so a failing iteration can be replayed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "asaflow/hash.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

const char* kPipeline = R"(pipeline: fault
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  slow: {uses: slow_copy, needs: [words], params: {sleep_ms: 400, tag: TAG}}
  stats: {uses: metric/corpus_stats, needs: [words, slow]}
  lengths: {uses: metric/sentence_lengths, needs: [words]}
)";

const char* kCorpusA = "The cat sat on the mat. The dog ate bread!\n\nA new paragraph here.\n";
const char* kCorpusB = "Another file, with words. And more words?\n";

void write_pipeline(const fs::path& dir, const std::string& tag) {
  std::string p = kPipeline;
  p.replace(p.find("TAG"), 3, tag);
  write_file(dir / "f.yaml", p);
}

std::string plugin_args() { return "--plugin-dir '" + (fixture_dir() / "slow").string() + "'"; }

// Each cell's final output: stage id -> (relative name -> sha256) of the entry its state
// file points to; "missing" when the entry is gone.
std::map<std::string, std::map<std::string, std::string>> final_outputs(const fs::path& cache) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& e : fs::recursive_directory_iterator(cache / "state")) {
    if (e.path().extension() != ".json") continue;
    std::string key;
    try {
      key = nlohmann::json::parse(read_file(e.path())).at("key").get<std::string>();
    } catch (const std::exception&) {
      continue;
    }
    const fs::path entry = cache / "objects" / key.substr(0, 2) / key;
    std::string stage = "?";
    try {
      stage = nlohmann::json::parse(read_file(entry / "manifest.json")).at("meta").at("stage_id").get<std::string>();
    } catch (const std::exception&) {
      out["state " + e.path().filename().string()]["manifest"] = "missing";
      continue;
    }
    auto& files = out[stage];
    for (const auto& f : fs::recursive_directory_iterator(entry / "out")) {
      if (f.is_regular_file()) files[fs::relative(f.path(), entry / "out").string()] = asaflow::sha256_file(f.path());
    }
  }
  return out;
}

// A random regular file under `root` whose name matches `name` (any when empty).
fs::path pick(const fs::path& root, const std::string& name, std::mt19937& rng) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && (name.empty() || it->path().filename() == name)) found.push_back(it->path());
  }
  if (found.empty()) return {};
  return found[std::uniform_int_distribution<std::size_t>(0, found.size() - 1)(rng)];
}

// Starts `asaflow run` in `dir`, returns its pid.
pid_t start_run(const fs::path& dir) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    const std::string plugins = (fixture_dir() / "slow").string();
    ::setenv("ASAFLOW_PLUGIN_INDEX", "", 1);
    ::execl(asaflow_binary().c_str(), "asaflow", "run", "f.yaml", "--quiet", "-j", "2", "--plugin-dir", plugins.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST(FaultInjection, EveryFinalResultEqualsACleanRun) {
  const std::vector<std::string> tags = {"a", "b", "c"};
  // The reference: a clean run of each variant on a fresh store.
  std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> clean;
  for (const auto& tag : tags) {
    TempDir ref;
    write_file(ref.path / "corpus/a.txt", kCorpusA);
    write_pipeline(ref.path, tag);
    ASSERT_EQ(run_asaflow("run f.yaml --quiet " + plugin_args(), ref.path).exit_code, 0);
    clean[tag] = final_outputs(ref.path / ".asaflow");
    ASSERT_EQ(clean[tag].size(), 4u);
  }

  TempDir dir;
  const fs::path cache = dir.path / ".asaflow";
  write_file(dir.path / "corpus/a.txt", kCorpusA);
  const unsigned seed = 20261201;
  std::mt19937 rng(seed);
  const std::vector<std::string> faults = {"kill -9",
                                           "flip a byte of an output",
                                           "truncate a manifest",
                                           "garbage state file",
                                           "garbage digest cache",
                                           "delete an output",
                                           "swap an input mid-run",
                                           "leftover temporary entry"};
  const int iterations = 2 * int(faults.size());
  for (int i = 0; i < iterations; ++i) {
    const std::string tag = tags[std::uniform_int_distribution<std::size_t>(0, tags.size() - 1)(rng)];
    const std::string fault = faults[std::size_t(i) % faults.size()];
    SCOPED_TRACE("seed " + std::to_string(seed) + ", iteration " + std::to_string(i) + ": " + fault + ", tag " + tag);
    write_pipeline(dir.path, tag);
    if (i == 0) {
      ASSERT_EQ(run_asaflow("run f.yaml --quiet " + plugin_args(), dir.path).exit_code, 0);
    }

    if (fault == "kill -9" || fault == "swap an input mid-run") {
      const pid_t pid = start_run(dir.path);
      ASSERT_GT(pid, 0);
      sleep_ms(std::uniform_int_distribution<int>(0, 900)(rng));
      if (fault == "kill -9") {
        ::kill(pid, SIGKILL);
      } else {
        write_file(dir.path / "corpus/a.txt.new", kCorpusB);
        fs::rename(dir.path / "corpus/a.txt.new", dir.path / "corpus/a.txt");
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      write_file(dir.path / "corpus/a.txt", kCorpusA);  // the input as the reference saw it
    } else if (fault == "flip a byte of an output" || fault == "delete an output") {
      fs::path f = pick(cache / "objects", "", rng);
      while (!f.empty() && f.filename() == "manifest.json") f = pick(cache / "objects", "", rng);
      ASSERT_FALSE(f.empty());
      fs::permissions(f, fs::perms::owner_write, fs::perm_options::add);
      if (fault == "delete an output") {
        fs::remove(f);
      } else {
        std::string bytes = read_file(f);
        if (!bytes.empty()) bytes[std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng)] ^= 0x20;
        write_file(f, bytes);
      }
    } else if (fault == "truncate a manifest") {
      const fs::path f = pick(cache / "objects", "manifest.json", rng);
      ASSERT_FALSE(f.empty());
      fs::permissions(f, fs::perms::owner_write, fs::perm_options::add);
      fs::resize_file(f, fs::file_size(f) / 2);
    } else if (fault == "garbage state file") {
      const fs::path f = pick(cache / "state", "", rng);
      ASSERT_FALSE(f.empty());
      write_file(f, "{\"key\": \"not json");
    } else if (fault == "garbage digest cache") {
      write_file(cache / "digest-cache.json", "[1, 2");
    } else if (fault == "leftover temporary entry") {
      write_file(cache / "tmp" / (std::string(64, 'f') + ".99999.0") / "INCOMPLETE", "");
    }

    run_asaflow("run f.yaml --quiet " + plugin_args(), dir.path);  // may fail: what the user sees first
    run_asaflow("cache verify f.yaml", dir.path);
    auto final_run = run_asaflow("run f.yaml --quiet " + plugin_args(), dir.path);
    ASSERT_EQ(final_run.exit_code, 0) << final_run.err;
    EXPECT_EQ(final_outputs(cache), clean[tag]);
  }
}

// A full disk at every level of the run (RLIMIT_FSIZE: a write past N KiB fails with EFBIG,
// as ENOSPC would; no privileges needed): asaflow fails with a message or succeeds, never
// aborts, and never leaves an entry that verify would find damaged; with room again, the
// results equal a clean run's. Before, a full disk aborted the process (exit 134).
TEST(FaultInjection, AFullDiskAtAnyPointNeverLeavesADamagedEntry) {
  // Large enough (about 60 KiB of CoNLL-U) that the limits fall inside every kind of write.
  std::string corpus;
  for (int i = 0; i < 200; ++i) corpus += kCorpusA;
  TempDir ref;
  write_file(ref.path / "corpus/a.txt", corpus);
  write_pipeline(ref.path, "a");
  ASSERT_EQ(run_asaflow("run f.yaml --quiet " + plugin_args(), ref.path).exit_code, 0);
  const auto clean = final_outputs(ref.path / ".asaflow");

  for (int kib : {1, 2, 4, 8, 16, 32, 48, 64, 128}) {
    SCOPED_TRACE("file size limit " + std::to_string(kib) + " KiB");
    TempDir dir;
    write_file(dir.path / "corpus/a.txt", corpus);
    write_pipeline(dir.path, "a");
    const std::string cmd = "cd '" + dir.path.string() + "' && trap '' XFSZ && ulimit -f " + std::to_string(kib) +
                            " && ASAFLOW_PLUGIN_INDEX= '" + asaflow_binary().string() + "' run f.yaml --quiet -j 2 " +
                            plugin_args() + " >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal";
    EXPECT_LE(WEXITSTATUS(status), 3) << "aborted (134) or crashed";
    auto verify = run_asaflow("cache verify f.yaml", dir.path);
    EXPECT_EQ(verify.out.find("damaged:"), std::string::npos) << verify.out;
    auto again = run_asaflow("run f.yaml --quiet " + plugin_args(), dir.path);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(final_outputs(dir.path / ".asaflow"), clean);
  }
}
