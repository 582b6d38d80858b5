#include "asaflow/plugin_host.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "asaflow/component.hpp"
#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"
#include "test_support.hpp"

using namespace asaflow;
namespace fs = std::filesystem;

namespace {

std::size_t count_lines(const fs::path& f) { return fs::exists(f) ? test::lines_of(test::read_file(f)).size() : 0; }

TEST(PluginHost, LoadsRealPluginsAndListsTheirComponents) {
  PluginHost host;
  host.discover({ASAFLOW_TEST_PLUGIN_DIR});
  const ComponentEntry* e = host.find("metric", "corpus_stats");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->plugin_name, "corpus_stats");
  EXPECT_EQ(e->library, std::string(ASAFLOW_TEST_PLUGIN_DIR) + "/libasaflow_corpus_stats.so");
  EXPECT_EQ(e->library_digest.size(), 64u);
  // One library, two components.
  EXPECT_EQ(host.find("reporter", "json")->library, host.find("reporter", "markdown")->library);
  auto c = host.instantiate(*e);
  EXPECT_EQ(c->info().name, "corpus_stats");
  EXPECT_NE(dynamic_cast<StageComponent*>(c.get()), nullptr);
}

TEST(PluginHost, UnknownComponentMessage) {
  PluginHost host;
  host.discover({ASAFLOW_TEST_PLUGIN_DIR});
  try {
    host.require("reporter", "markdwn");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown reporter 'markdwn' (did you mean 'markdown'?); available reporters: csv, history, html, json, "
              "markdown");
  }
}

TEST(PluginHost, IndexAvoidsLoadingUntilAComponentIsUsed) {
  test::TempDir dir;
  const fs::path index = dir.path / "index.json";
  const fs::path log = dir.path / "register.log";
  ::setenv("ASAFLOW_TEST_REGISTER_LOG", log.c_str(), 1);
  // Copy the fixture so its mtime can be changed without touching the build tree.
  fs::create_directories(dir.path / "plugins");
  fs::copy_file(test::fixture_dir() / "slow/libfixture_slow.so", dir.path / "plugins/libfixture_slow.so");
  {
    PluginHost host(index);
    host.discover({dir.path / "plugins"});
    EXPECT_EQ(count_lines(log), 1u);
  }
  {
    PluginHost host(index);
    host.discover({dir.path / "plugins"});
    EXPECT_EQ(count_lines(log), 1u);  // answered from the index
    const ComponentEntry* e = host.find("stage", "slow_copy");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->info.params.size(), 3u);
    EXPECT_EQ(e->info.params[0].describe(), "int, default 0, range [0, 600000]");
    host.instantiate(*e);
    EXPECT_EQ(count_lines(log), 2u);  // loaded (and checked) on first use
  }
  auto later = fs::last_write_time(dir.path / "plugins/libfixture_slow.so") + std::chrono::seconds(5);
  fs::last_write_time(dir.path / "plugins/libfixture_slow.so", later);
  {
    PluginHost host(index);
    host.discover({dir.path / "plugins"});
    EXPECT_EQ(count_lines(log), 3u);  // changed library: re-read
  }
  ::unsetenv("ASAFLOW_TEST_REGISTER_LOG");
}

TEST(PluginHost, BrokenLibrariesAreRefusedWithTheReason) {
  PluginHost host;
  EXPECT_THROW(host.load_library(test::fixture_dir() / "bad_api/libfixture_bad_api.so"), PluginError);
  EXPECT_THROW(host.load_library(test::fixture_dir() / "no_entry/libfixture_no_entry.so"), PluginError);
  EXPECT_THROW(host.load_library(test::fixture_dir() / "not_elf/libnot_a_plugin.so"), PluginError);
  EXPECT_TRUE(host.entries().empty());
}

TEST(PluginHost, SearchPathOrder) {
  ::setenv("ASAFLOW_PLUGIN_PATH", "/a:/b", 1);
  auto dirs = PluginHost::search_path({"/c"});
  ::unsetenv("ASAFLOW_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs[0], ASAFLOW_TEST_PLUGIN_DIR);  // the build tree's own: nothing at a baked-in prefix
  EXPECT_EQ(dirs[1], "/a");
  EXPECT_EQ(dirs[2], "/b");
  EXPECT_EQ(dirs[3], "/c");
}

TEST(PluginHost, ARefusedLibraryIsSkippedAndNamedWhenAComponentIsMissing) {
  test::TempDir dir;
  fs::create_directories(dir.path / "plugins");
  fs::copy_file(test::fixture_dir() / "bad_api/libfixture_bad_api.so", dir.path / "plugins/libfixture_bad_api.so");
  fs::copy_file(test::fixture_dir() / "slow/libfixture_slow.so", dir.path / "plugins/libfixture_slow.so");
  PluginHost host;
  host.discover({dir.path / "plugins"});  // no throw: the good library is there
  ASSERT_EQ(host.refused().size(), 1u);
  EXPECT_EQ(host.refused()[0].first, (dir.path / "plugins/libfixture_bad_api.so").string());
  EXPECT_NE(host.find("stage", "slow_copy"), nullptr);
  try {
    host.require("stage", "nowhere");
    FAIL() << "require found a component no library provides";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "unknown stage 'nowhere'; a skipped plugin library may provide it: plugin library '" +
                  (dir.path / "plugins/libfixture_bad_api.so").string() + "' was built for plugin API version 99"),
              std::string::npos)
        << e.what();
  }
}

TEST(PluginHost, APluginWithoutLibTorchFitsAnyLibTorch) {
  const std::string host = "gcc-12.2;cxx11abi=1;asaflow=0.1.0;torch=1.13.0";
  EXPECT_TRUE(fingerprint_fits(host, host));
  EXPECT_TRUE(fingerprint_fits("gcc-12.2;cxx11abi=1;asaflow=0.1.0;torch=none", host));
  EXPECT_FALSE(fingerprint_fits("gcc-12.2;cxx11abi=1;asaflow=0.1.0;torch=2.1.0", host));
  EXPECT_FALSE(fingerprint_fits("gcc-12.2;cxx11abi=1;asaflow=0.2.0;torch=none", host));
  EXPECT_FALSE(fingerprint_fits("gcc-9.4;cxx11abi=1;asaflow=0.1.0;torch=none", host));
  EXPECT_FALSE(fingerprint_fits("torch=none", host));
}

// A stage that asks for a component of one C++ type and is given another (a plugin built
// against another asaflow, or registered under the wrong kind) gets a PluginError naming
// the component and both types, and a null one is named as such; the right type comes back
// as itself.
TEST(StageInputs, ResolveAsNamesBothTypesWhenTheComponentIsAnother) {
  struct Given : Component {
    using Component::Component;
  };
  struct Wanted : Component {
    using Component::Component;
  };
  std::shared_ptr<Component> next;
  StageInputs in;
  in.resolve = [&](const std::string&, const std::string&) { return next; };
  auto message_for = [&](std::shared_ptr<Component> c) {
    next = std::move(c);
    try {
      in.resolve_as<Wanted>("model_mode", "full");
    } catch (const PluginError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto wrong = message_for(std::make_shared<Given>(ComponentInfo::of("model_mode", "full", "1.0.0")));
  EXPECT_NE(wrong.find("model_mode/full is a "), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("Given, not the "), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("Wanted this stage needs"), std::string::npos) << wrong;
  const auto null = message_for(nullptr);
  EXPECT_NE(null.find("model_mode/full is a null component, not the "), std::string::npos) << null;
  auto right = std::make_shared<Wanted>(ComponentInfo::of("model_mode", "full", "1.0.0"));
  next = right;
  EXPECT_EQ(in.resolve_as<Wanted>("model_mode", "full").get(), right.get());
}

}  // namespace
