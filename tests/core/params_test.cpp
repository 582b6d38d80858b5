#include "asaflow/params.hpp"
#include "asaflow/param_binding.hpp"

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

// One declaration per parameter (param_binding.hpp): the schema and the filled struct agree.
namespace binding_test {
enum class Step { kEager, kStatic, kGraph };
struct Options {
  std::int64_t batch = 4;
  double lr = 3e-4;
  bool fused = true;
  std::string name = "tiny";
  Step step = Step::kStatic;
};
}  // namespace binding_test

TEST(ParamBinding, GivesTheSchemaWithTheStructsDefaultsAndFillsTheStruct) {
  using binding_test::Options;
  using binding_test::Step;
  const auto b = asaflow::ParamBinding<Options>()
                     .integer(&Options::batch, "batch", "examples per step", 1, 4096)
                     .real(&Options::lr, "lr", "learning rate", 0, 10)
                     .boolean(&Options::fused, "fused", "fused loss")
                     .string(&Options::name, "name", "a name")
                     .enumeration(&Options::step, "step", "training step",
                                  {{"eager", Step::kEager}, {"static", Step::kStatic}, {"graph", Step::kGraph}});
  const auto& specs = b.specs();
  ASSERT_EQ(specs.size(), 5u);
  EXPECT_EQ(specs[0].describe(), "int, default 4, range [1, 4096]");
  EXPECT_EQ(specs[1].name, "lr");
  EXPECT_EQ(std::get<double>(*specs[1].default_value), 3e-4);
  EXPECT_EQ(std::get<bool>(*specs[2].default_value), true);
  EXPECT_EQ(std::get<std::string>(*specs[4].default_value), "static");  // the default enumerator's name
  EXPECT_EQ(specs[4].choices, (std::vector<std::string>{"eager", "static", "graph"}));
  const Options o = b.fill(asaflow::Params({{"batch", std::int64_t(16)},
                                            {"lr", 1e-3},
                                            {"fused", false},
                                            {"name", std::string("small")},
                                            {"step", std::string("graph")}}));
  EXPECT_EQ(o.batch, 16);
  EXPECT_EQ(o.lr, 1e-3);
  EXPECT_FALSE(o.fused);
  EXPECT_EQ(o.name, "small");
  EXPECT_EQ(o.step, Step::kGraph);
  // An open upper end reads as the hand-written schemas did.
  EXPECT_EQ(asaflow::ParamBinding<Options>().integer(&Options::batch, "batch", "", 0).specs()[0].describe(),
            "int, default 4, at least 0");
}
