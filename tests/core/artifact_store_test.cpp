#include "asaflow/artifact_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "asaflow/error.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/stage_context.hpp"
#include "test_support.hpp"

using namespace asaflow;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kKey = sha256_hex("some key");

TEST(ArtifactStore, CommitPublishesACompleteEntry) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  EXPECT_FALSE(store.lookup(kKey));
  fs::path tmp;
  {
    ArtifactStore::Transaction tx(store, kKey);
    tmp = tx.out_dir().parent_path();
    test::write_file(tx.out_dir() / "a.txt", "hello");
    test::write_file(tx.out_dir() / "sub/b.txt", "world!");
    EXPECT_TRUE(fs::exists(tmp / "INCOMPLETE"));
    EXPECT_FALSE(store.lookup(kKey));  // not visible before commit
    Manifest m = tx.commit(json{{"x", 1}}, json{{"stage_id", "s"}});
    ASSERT_EQ(m.files.size(), 2u);
    EXPECT_EQ(m.files[0].path, "a.txt");
    EXPECT_EQ(m.files[1].path, "sub/b.txt");
    EXPECT_EQ(m.files[1].sha256, sha256_hex("world!"));
  }
  EXPECT_FALSE(fs::exists(tmp));
  auto hit = store.lookup(kKey);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->record, (json{{"x", 1}}));
  EXPECT_EQ(test::read_file(store.output_dir(kKey) / "a.txt"), "hello");
  EXPECT_FALSE(fs::exists(store.entry_dir(kKey) / "INCOMPLETE"));
}

// A stage reads which machine computed an input from the input's committed record.
TEST(ArtifactStore, AnInputsMachineComesFromItsRecord) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  const std::string other = sha256_hex("an older entry");
  for (const auto& [key, meta] : {std::pair{kKey, json{{"machine", "AMD EPYC (family 26, model 2, avx512f)"}}},
                                  std::pair{other, json{{"stage_id", "s"}}}}) {
    ArtifactStore::Transaction tx(store, key);
    test::write_file(tx.out_dir() / "a.txt", "hello");
    tx.commit(json{{"x", 1}}, meta);
  }
  InputArtifact in;
  in.dir = store.output_dir(kKey);
  EXPECT_EQ(input_machine(in), "AMD EPYC (family 26, model 2, avx512f)");
  in.dir = store.output_dir(other);  // recorded before machines were
  EXPECT_EQ(input_machine(in), "");
  in.dir = dir.path / "not-an-entry" / "out";
  EXPECT_EQ(input_machine(in), "");
}

TEST(ArtifactStore, AbandonedTransactionLeavesNothing) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  fs::path tmp;
  {
    ArtifactStore::Transaction tx(store, kKey);
    tmp = tx.out_dir();
    test::write_file(tx.out_dir() / "half.txt", "half");
  }
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(store.lookup(kKey));
}

TEST(ArtifactStore, TruncatedOrMissingOutputIsNotAHit) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  {
    ArtifactStore::Transaction tx(store, kKey);
    test::write_file(tx.out_dir() / "a.txt", "hello");
    tx.commit(json::object(), json::object());
  }
  test::write_file(store.output_dir(kKey) / "a.txt", "hel");
  EXPECT_FALSE(store.lookup(kKey));
  fs::remove(store.output_dir(kKey) / "a.txt");
  EXPECT_FALSE(store.lookup(kKey));
}

TEST(ArtifactStore, VerifyEvictsModifiedEntries) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  for (const char* k : {"one", "two"}) {
    ArtifactStore::Transaction tx(store, sha256_hex(k));
    test::write_file(tx.out_dir() / "f.txt", k);
    tx.commit(json::object(), json{{"stage_id", k}});
  }
  test::write_file(store.output_dir(sha256_hex("two")) / "f.txt", "TWO");  // same size
  auto report = store.verify(true);
  EXPECT_EQ(report.checked, 2u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].substr(0, 37), "entry " + sha256_hex("two").substr(0, 12) + " (stage two): f.txt");
  EXPECT_TRUE(store.lookup(sha256_hex("one")));
  EXPECT_FALSE(fs::exists(store.entry_dir(sha256_hex("two"))));
}

TEST(ArtifactStore, LockIsExclusiveAcrossProcessesAndDiesWithTheHolder) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ArtifactStore child_store(dir.path);
    auto lock = child_store.lock(kKey);
    test::write_file(dir.path / "locked", "");
    ::pause();
    ::_exit(0);
  }
  for (int i = 0; i < 500 && !fs::exists(dir.path / "locked"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(store.locked(kKey));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(store.locked(kKey));  // released by the OS when the holder died
  bool waited = false;
  auto lock = store.lock(kKey, [&] { waited = true; });
  EXPECT_FALSE(waited);
}

TEST(ArtifactStore, PathDigestFollowsContent) {
  test::TempDir dir;
  ArtifactStore store(dir.path / "cache");
  test::write_file(dir.path / "d/a.txt", "a");
  test::write_file(dir.path / "d/sub/b.txt", "b");
  const std::string d1 = store.path_digest(dir.path / "d");
  EXPECT_EQ(store.path_digest(dir.path / "d"), d1);
  EXPECT_EQ(store.path_digest(dir.path / "d/a.txt"), sha256_hex("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  test::write_file(dir.path / "d/sub/b.txt", "c");
  EXPECT_NE(store.path_digest(dir.path / "d"), d1);
  EXPECT_THROW(store.path_digest(dir.path / "missing"), InputError);
}

TEST(ArtifactStore, StateRoundTripsWithUnsafeIds) {
  test::TempDir dir;
  ArtifactStore store(dir.path);
  store.save_state("p", "train[mode=full,seed=1]", json{{"key", "k1"}});
  store.save_state("p", "train[mode=full/seed=1]", json{{"key", "k2"}});
  EXPECT_EQ(store.load_state("p", "train[mode=full,seed=1]")->at("key"), "k1");
  EXPECT_EQ(store.load_state("p", "train[mode=full/seed=1]")->at("key"), "k2");
  EXPECT_FALSE(store.load_state("p", "other"));
}

}  // namespace
