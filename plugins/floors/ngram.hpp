// N-gram floors: what a model that uses no more than one or two tokens of context achieves
// on the same tokens. A neural language model that does not beat them has learnt little
// beyond token frequencies, and a restriction of its attention cannot show an effect.
//
// NgramModel fits, on sequences of token ids (each an example: contexts never cross two
// examples, as in the trainer), either an absolute-discounting unigram model interpolated
// with the uniform distribution (order 1), or an interpolated Kneser-Ney model of order 2
// or 3 (Chen & Goodman 1998, section 3.5, with one discount per order,
// D = n1 / (n1 + 2 n2) from that order's counts of counts): the highest order discounts raw
// counts, lower orders discount continuation counts N1+(. w), and the unigram level is
// interpolated with the uniform distribution over the vocabulary, so every token id has
// non-zero probability. Every distribution sums to 1 over the vocabulary (tested).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace asaflow::plugins {

class NgramModel {
 public:
  // `vocab`: token ids are 0..vocab-1; the begin-of-example context symbol is `vocab`.
  NgramModel(int order, std::int64_t vocab);
  void fit(const std::vector<std::vector<std::int32_t>>& sequences);
  // P(w | u v) for the token w after u, v (v the previous token); -1 for "before the
  // example's first token".
  double prob(std::int32_t w, std::int32_t u, std::int32_t v) const;
  // exp of the mean negative log-probability of tokens 1..n-1 of each sequence (the first
  // token of an example is not predicted, as in the trainer); `targets` receives their count.
  double perplexity(const std::vector<std::vector<std::int32_t>>& sequences, std::int64_t* targets = nullptr) const;
  int order() const { return order_; }
  double discount(int level) const { return discount_[std::size_t(level)]; }

 private:
  using Counts = std::unordered_map<std::uint64_t, std::uint32_t>;
  struct Context {
    std::uint64_t total = 0;  // sum of the counts that follow the context
    std::uint32_t types = 0;  // distinct tokens that follow it
  };
  double p_unigram(std::int32_t w) const;
  double p_bigram(std::int32_t w, std::int32_t v) const;
  std::uint64_t key(std::uint64_t a, std::uint64_t b) const { return a * std::uint64_t(vocab_ + 1) + b; }

  int order_;
  std::int64_t vocab_;
  std::vector<double> discount_ = std::vector<double>(4, 0.0);
  // unigram level: raw counts (order 1) or continuation counts N1+(. w) (orders 2, 3)
  std::vector<std::uint32_t> uni_;
  double uni_total_ = 0;
  std::uint64_t uni_types_ = 0;
  // bigram level: raw counts (order 2) or continuation counts N1+(. v w) (order 3)
  Counts bi_;
  std::unordered_map<std::uint64_t, Context> bi_context_;
  // trigram level (order 3): raw counts
  Counts tri_;
  std::unordered_map<std::uint64_t, Context> tri_context_;
};

}  // namespace asaflow::plugins
