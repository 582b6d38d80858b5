#include "text_files.hpp"
#include "asaflow/nlp/sentence_split.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/stage_context.hpp"
#include "test_support.hpp"

using namespace asaflow;
using Sentences = std::vector<std::vector<std::string>>;

TEST(TextFiles, SplitsSentencesAndTokens) {
  EXPECT_EQ(nlp::split_plain_text("The cat sat. It didn't move!\n\nNew U.S. paragraph"),
            (Sentences{{"The", "cat", "sat", "."}, {"It", "didn't", "move", "!"}, {"New", "U.S.", "paragraph"}}));
  EXPECT_EQ(
      nlp::split_plain_text("He said \"stop.\" Then, 3.5 (roughly) left?"),
      (Sentences{{"He", "said", "\"", "stop", ".", "\""}, {"Then", ",", "3.5", "(", "roughly", ")", "left", "?"}}));
  EXPECT_TRUE(nlp::split_plain_text(" \n\t ").empty());
}

namespace {

// A context for text_files reading `paths` in `format`, writing into `out`.
std::unique_ptr<StageContext> prepare(const std::vector<std::string>& paths, const std::string& format,
                                      const std::filesystem::path& out) {
  StageInputs in;
  in.params =
      Params({{"paths", paths}, {"format", format}, {"name_regex", std::string(".*")}, {"max_files", std::int64_t(0)}});
  auto ctx = std::make_unique<StageContext>(std::move(in));
  ctx->out.dir = out;
  ctx->out.log = std::make_shared<spdlog::logger>("test");
  return ctx;
}

std::shared_ptr<StageComponent> text_files() {
  static PluginHost host;
  if (!host.find("dataset", "text_files")) host.add_static("text_files", "1.0.0", plugins::register_text_files);
  return std::dynamic_pointer_cast<StageComponent>(host.instantiate(*host.find("dataset", "text_files")));
}

}  // namespace

TEST(TextFiles, WordTagFormatStripsTags) {
  test::TempDir dir;
  test::write_file(dir.path / "in/ca01", "\n\tThe/at jury/nn said/vbd ./.\n\n\tA/at 1/2/cd w/o/in\n");
  auto context = prepare({(dir.path / "in").string()}, "word_tag", dir.path);
  StageContext& ctx = *context;
  text_files()->run(ctx);
  Corpus c = Corpus::load(dir.path / Corpus::kFileName);
  ASSERT_EQ(c.documents.size(), 1u);
  EXPECT_EQ(c.documents[0].id, "ca01");
  Sentences forms;
  for (const auto& s : c.documents[0].sentences) {
    forms.emplace_back();
    for (const auto& t : s) forms.back().push_back(t.form);
  }
  EXPECT_EQ(forms, (Sentences{{"The", "jury", "said", "."}, {"A", "1/2", "w/o"}}));
  EXPECT_EQ(c.documents[0].sentences[1][1].xpos, "cd");
  EXPECT_EQ(ctx.out.results.find("tokens")->value, 7.0);
}

TEST(TextFiles, InvalidUtf8NamesFileAndOffset) {
  test::TempDir dir;
  test::write_file(dir.path / "bad.txt", "ok line\nbad \xc3\x28 here\n");
  auto ctx = prepare({(dir.path / "bad.txt").string()}, "plain", dir.path);
  try {
    text_files()->run(*ctx);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path / "bad.txt").string() + ": invalid UTF-8 at byte offset 12");
  }
}
