#include "asaflow/cache_key.hpp"

#include <gtest/gtest.h>

#include "asaflow/plugin_host.hpp"

using namespace asaflow;
using nlohmann::json;

namespace {

ComponentEntry entry() {
  ComponentEntry e;
  e.info = ComponentInfo::of("metric", "m", "1.0.0")
               .describe("")
               .with_params({ParamSpec::integer("k", 1, ""), ParamSpec::paths("data", "")});
  e.library_digest = "aaaa1111bbbb2222";
  return e;
}

TEST(CacheKey, DependsOnEveryPartAndNothingElse) {
  ComponentEntry e = entry();
  Params p({{"k", std::int64_t(1)}, {"data", std::vector<std::string>{"/somewhere/x"}}});
  KeyInputs in{&e, &p, {{"up", "d1"}}, {{"data", "c1"}}, "", {}};
  const std::string base = key_of(key_record(in));
  EXPECT_EQ(base, key_of(key_record(in)));  // deterministic
  EXPECT_EQ(base.size(), 64u);

  // The path string itself is not in the key: only the content digest is.
  Params moved({{"k", std::int64_t(1)}, {"data", std::vector<std::string>{"/elsewhere/x"}}});
  KeyInputs in_moved = in;
  in_moved.params = &moved;
  EXPECT_EQ(key_of(key_record(in_moved)), base);

  Params p2({{"k", std::int64_t(2)}, {"data", std::vector<std::string>{"/somewhere/x"}}});
  KeyInputs changed = in;
  changed.params = &p2;
  EXPECT_NE(key_of(key_record(changed)), base);
  changed = in;
  changed.upstream["up"] = "d2";
  EXPECT_NE(key_of(key_record(changed)), base);
  changed = in;
  changed.data["data"] = "c2";
  EXPECT_NE(key_of(key_record(changed)), base);
  changed = in;
  changed.device = "cpu:1234";
  EXPECT_NE(key_of(key_record(changed)), base);
  ComponentEntry e2 = e;
  e2.library_digest = "cccc3333";
  changed = in;
  changed.component = &e2;
  EXPECT_NE(key_of(key_record(changed)), base);
}

TEST(CacheKey, ExplainNamesEachChangedPart) {
  ComponentEntry e = entry();
  Params p({{"k", std::int64_t(1)}, {"data", std::vector<std::string>{"x"}}});
  KeyInputs in{&e, &p, {{"words", "1111111111111111aaaa"}}, {{"data", "c1"}}, "", {}};
  json before = key_record(in);
  EXPECT_TRUE(explain_changes(before, before).empty());

  ComponentEntry e2 = e;
  e2.library_digest = "ffff0000ffff0000ffff";
  e2.info.version = "1.1.0";
  Params p2({{"k", std::int64_t(3)}, {"data", std::vector<std::string>{"x"}}});
  KeyInputs after{&e2, &p2, {{"words", "2222222222222222bbbb"}}, {{"data", "c2"}}, "cpu:9", {}};
  EXPECT_EQ(explain_changes(before, key_record(after)),
            (std::vector<std::string>{"component metric/m version changed: 1.0.0 -> 1.1.0",
                                      "component metric/m library changed: sha256 aaaa1111bbbb -> ffff0000ffff",
                                      "parameter 'k' changed: 1 -> 3", "data of parameter 'data' changed: c1 -> c2",
                                      "output of input 'words' changed: 111111111111 -> 222222222222",
                                      "device changed: none -> cpu:9 (device-dependent results are not reused)"}));
}

}  // namespace
