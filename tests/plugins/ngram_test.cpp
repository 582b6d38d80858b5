// The n-gram floors: normalisation over the whole vocabulary, values worked by hand from
// the formulas in ngram.hpp, and the ordering a floor must show on data with structure.
#include "ngram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using asaflow::plugins::NgramModel;

namespace {

double total(const NgramModel& m, std::int32_t u, std::int32_t v, std::int64_t vocab) {
  double s = 0;
  for (std::int32_t w = 0; w < vocab; ++w) s += m.prob(w, u, v);
  return s;
}

}  // namespace

TEST(Ngram, EveryDistributionSumsToOneOverTheVocabulary) {
  std::mt19937 rng(7);
  std::vector<std::vector<std::int32_t>> data;
  for (int s = 0; s < 200; ++s) {
    std::vector<std::int32_t> seq;
    for (int i = 0; i < 20; ++i) seq.push_back(std::int32_t(rng() % 30));
    data.push_back(seq);
  }
  const std::int64_t vocab = 40;  // ids 30-39 never seen
  for (int order = 1; order <= 3; ++order) {
    NgramModel m(order, vocab);
    m.fit(data);
    // seen contexts, unseen ones, the begin-of-example context
    for (auto [u, v] : std::vector<std::pair<int, int>>{{1, 2}, {35, 36}, {-1, -1}, {-1, 3}, {3, 39}}) {
      EXPECT_NEAR(total(m, u, v, vocab), 1.0, 1e-9) << "order " << order << " context " << u << " " << v;
    }
    EXPECT_GT(m.prob(39, 1, 2), 0.0);  // never seen, still possible
  }
}

// One sequence 0 1 0 1 over a vocabulary of 3 (begin symbol 3), worked by hand.
// Unigram: counts 2, 2, 0; no count of 2 twice... n1 = 0 so D = 0.5:
//   p(0) = (2 - 0.5)/4 + 0.5 * 2/4 * 1/3 = 0.375 + 1/12.
// Bigram KN: raw bigrams (3,0) (0,1) (1,0) (0,1): counts 1, 2, 1 -> n1 = 2, n2 = 1, D2 = 0.5.
//   Continuation counts N1+(. w): w=0 after {3, 1} = 2, w=1 after {0} = 1; total 3, 2 types;
//   counts of counts n1 = 1, n2 = 1 -> D1 = 1/3. p1(1) = (1 - 1/3)/3 + (1/3)(2/3)(1/3).
//   p(1 | 0) = (2 - 0.5)/2 + 0.5 * (1 distinct follower)/2 * p1(1).
TEST(Ngram, ValuesWorkedByHand) {
  const std::vector<std::vector<std::int32_t>> data = {{0, 1, 0, 1}};
  NgramModel uni(1, 3);
  uni.fit(data);
  EXPECT_NEAR(uni.prob(0, -1, -1), 0.375 + 1.0 / 12, 1e-12);
  EXPECT_NEAR(uni.prob(2, -1, -1), 1.0 / 12, 1e-12);
  NgramModel bi(2, 3);
  bi.fit(data);
  EXPECT_NEAR(bi.discount(2), 0.5, 1e-12);
  EXPECT_NEAR(bi.discount(1), 1.0 / 3, 1e-12);
  const double p1 = (1 - 1.0 / 3) / 3 + (1.0 / 3) * (2.0 / 3) / 3;
  EXPECT_NEAR(bi.prob(1, -1, 0), 0.75 + 0.25 * p1, 1e-12);
  // An unseen context falls back to the continuation unigram.
  EXPECT_NEAR(bi.prob(1, -1, 2), p1, 1e-12);
  // Perplexity predicts tokens 1..n-1 of each example only.
  std::int64_t n = 0;
  bi.perplexity(data, &n);
  EXPECT_EQ(n, 3);
}

// Text with structure: the next token is the previous one plus 1 or 2, by the parity of
// the one before it. A bigram model narrows it to two tokens, a trigram model to one: the
// floors come out in order, the bigram near 2, the trigram near 1.
TEST(Ngram, HigherOrdersUseMoreContext) {
  std::mt19937 rng(3);
  auto make = [&](int count) {
    std::vector<std::vector<std::int32_t>> out;
    for (int s = 0; s < count; ++s) {
      std::vector<std::int32_t> seq = {std::int32_t(rng() % 10), std::int32_t(rng() % 10)};
      for (int i = 2; i < 30; ++i) seq.push_back((seq[i - 1] + 1 + seq[i - 2] % 2) % 10);
      out.push_back(seq);
    }
    return out;
  };
  const auto train = make(400), test = make(50);
  double ppl[4];
  for (int order = 1; order <= 3; ++order) {
    NgramModel m(order, 10);
    m.fit(train);
    ppl[order] = m.perplexity(test);
  }
  EXPECT_GT(ppl[1], ppl[2]);
  EXPECT_GT(ppl[2], ppl[3]);
  EXPECT_LT(ppl[2], 2.5);
  EXPECT_LT(ppl[3], 1.5);
  EXPECT_THROW(NgramModel(4, 10), std::invalid_argument);
  NgramModel m(2, 5);
  EXPECT_THROW(m.fit({{1, 7}}), std::invalid_argument);  // a token outside the vocabulary
}
