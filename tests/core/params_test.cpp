#include "asaflow/params.hpp"

#include <gtest/gtest.h>

#include "asaflow/error.hpp"

using namespace asaflow;

TEST(Params, TypedAccessAndPluginBugsAreInternalErrors) {
  Params p({{"n", std::int64_t(3)}, {"lr", 3e-4}, {"name", std::string("full")}, {"flag", true}});
  EXPECT_EQ(p.get_int("n"), 3);
  EXPECT_DOUBLE_EQ(p.get_double("lr"), 3e-4);
  EXPECT_DOUBLE_EQ(p.get_double("n"), 3.0);  // ints widen to double
  EXPECT_EQ(p.get_string("name"), "full");
  EXPECT_TRUE(p.get_bool("flag"));
  EXPECT_THROW(p.get_int("name"), InternalError);
  EXPECT_THROW(p.get_int("missing"), InternalError);
}

TEST(Params, CanonicalFormatting) {
  EXPECT_EQ(format_param_value(ParamValue(0.1)), "0.1");
  EXPECT_EQ(format_param_value(ParamValue(1.0)), "1.0");
  EXPECT_EQ(format_param_value(ParamValue(3e-4)), "0.0003");
  EXPECT_EQ(format_param_value(ParamValue(std::int64_t(42))), "42");
  EXPECT_EQ(format_param_value(ParamValue(std::vector<std::string>{"a", "b"})), "[a, b]");
}

TEST(ParamSpec, Describe) {
  EXPECT_EQ(ParamSpec::integer("k", 10, "").range(1, 100).describe(), "int, default 10, range [1, 100]");
  EXPECT_EQ(ParamSpec::string("mode", "full", "").one_of({"none", "full"}).describe(),
            "string, default full, one of: none, full");
  EXPECT_EQ(ParamSpec::path("p", "").describe(), "path, required");
}
