#include "asaflow/text_util.hpp"

#include <gtest/gtest.h>

using namespace asaflow;

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("params", "params"), 0u);
  EXPECT_EQ(edit_distance("Params", "params"), 0u);  // case-insensitive
}

TEST(DidYouMean, SuggestsOnlyPlausibleTypos) {
  EXPECT_EQ(did_you_mean("parms", {"uses", "needs", "params"}), "params");
  EXPECT_EQ(did_you_mean("corpus_stat", {"corpus_stats", "sentence_lengths"}), "corpus_stats");
  EXPECT_EQ(did_you_mean("zzzzzz", {"uses", "needs", "params"}), std::nullopt);
}

TEST(Utf8, FindsFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::nullopt);  // é and an emoji
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(find_invalid_utf8("ab\xc3"), 2u);         // truncated sequence
  EXPECT_EQ(find_invalid_utf8("x\xc0\xaf"), 1u);      // overlong '/'
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);  // UTF-16 surrogate
}
