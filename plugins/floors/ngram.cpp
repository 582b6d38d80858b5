#include "ngram.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

namespace asaflow::plugins {
namespace {

// D = n1 / (n1 + 2 n2) from the counts of counts (Ney, Essen and Kneser 1994); 0.5 when the
// counts are too few to estimate it.
template <typename Values>
double discount_of(const Values& counts) {
  double n1 = 0, n2 = 0;
  for (const auto& c : counts) {
    if (c == 1)
      n1 += 1;
    else if (c == 2)
      n2 += 1;
  }
  if (n1 == 0 || n2 == 0) return 0.5;
  return n1 / (n1 + 2 * n2);
}

}  // namespace

NgramModel::NgramModel(int order, std::int64_t vocab) : order_(order), vocab_(vocab) {
  if (order < 1 || order > 3) throw std::invalid_argument("n-gram order must be 1, 2 or 3");
  if (vocab < 1) throw std::invalid_argument("n-gram vocabulary must not be empty");
}

void NgramModel::fit(const std::vector<std::vector<std::int32_t>>& sequences) {
  const std::int32_t bos = std::int32_t(vocab_);
  uni_.assign(std::size_t(vocab_), 0);
  Counts raw_bi;
  for (const auto& s : sequences) {
    std::int32_t u = bos, v = bos;
    for (std::int32_t w : s) {
      if (w < 0 || w >= vocab_)
        throw std::invalid_argument("token id " + std::to_string(w) + " outside the vocabulary");
      if (order_ == 1) uni_[std::size_t(w)]++;
      if (order_ >= 2) raw_bi[key(std::uint64_t(v), std::uint64_t(w))]++;
      if (order_ == 3) tri_[key(key(std::uint64_t(u), std::uint64_t(v)), std::uint64_t(w))]++;
      u = v;
      v = w;
    }
  }
  if (order_ == 3) {
    // The bigram level counts distinct left extensions: N1+(. v w).
    for (const auto& [k, c] : tri_) {
      (void)c;
      bi_[k % std::uint64_t(vocab_ + 1) +
          (k / std::uint64_t(vocab_ + 1) % std::uint64_t(vocab_ + 1)) * std::uint64_t(vocab_ + 1)]++;
      auto& ctx = tri_context_[k / std::uint64_t(vocab_ + 1)];
      ctx.total += c;
      ctx.types += 1;
    }
    std::vector<std::uint32_t> values;
    for (const auto& [k, c] : tri_) values.push_back(c);
    discount_[3] = discount_of(values);
  } else if (order_ == 2) {
    bi_ = raw_bi;
  }
  if (order_ >= 2) {
    std::vector<std::uint32_t> values;
    for (const auto& [k, c] : bi_) {
      auto& ctx = bi_context_[k / std::uint64_t(vocab_ + 1)];
      ctx.total += c;
      ctx.types += 1;
      values.push_back(c);
      // The unigram level counts distinct left extensions of the bigram level's types.
      uni_[std::size_t(k % std::uint64_t(vocab_ + 1))]++;
    }
    discount_[2] = discount_of(values);
  }
  uni_total_ = 0;
  uni_types_ = 0;
  for (auto c : uni_) {
    uni_total_ += c;
    uni_types_ += c > 0;
  }
  if (uni_total_ == 0) throw std::invalid_argument("no tokens to fit an n-gram model on");
  discount_[1] = discount_of(uni_);
}

double NgramModel::p_unigram(std::int32_t w) const {
  const double d = discount_[1];
  return std::max(double(uni_[std::size_t(w)]) - d, 0.0) / uni_total_ +
         d * double(uni_types_) / uni_total_ / double(vocab_);
}

double NgramModel::p_bigram(std::int32_t w, std::int32_t v) const {
  const double lower = p_unigram(w);
  auto ctx = bi_context_.find(std::uint64_t(v));
  if (ctx == bi_context_.end()) return lower;
  const double d = discount_[2];
  auto c = bi_.find(key(std::uint64_t(v), std::uint64_t(w)));
  const double count = c == bi_.end() ? 0.0 : double(c->second);
  return std::max(count - d, 0.0) / double(ctx->second.total) +
         d * double(ctx->second.types) / double(ctx->second.total) * lower;
}

double NgramModel::prob(std::int32_t w, std::int32_t u, std::int32_t v) const {
  const std::int32_t bos = std::int32_t(vocab_);
  if (u < 0) u = bos;
  if (v < 0) v = bos;
  if (order_ == 1) return p_unigram(w);
  if (order_ == 2) return p_bigram(w, v);
  const double lower = p_bigram(w, v);
  const std::uint64_t context = key(std::uint64_t(u), std::uint64_t(v));
  auto ctx = tri_context_.find(context);
  if (ctx == tri_context_.end()) return lower;
  const double d = discount_[3];
  auto c = tri_.find(key(context, std::uint64_t(w)));
  const double count = c == tri_.end() ? 0.0 : double(c->second);
  return std::max(count - d, 0.0) / double(ctx->second.total) +
         d * double(ctx->second.types) / double(ctx->second.total) * lower;
}

double NgramModel::perplexity(const std::vector<std::vector<std::int32_t>>& sequences, std::int64_t* targets) const {
  double nll = 0;
  std::int64_t n = 0;
  for (const auto& s : sequences) {
    for (std::size_t i = 1; i < s.size(); ++i) {
      nll -= std::log(prob(s[i], i >= 2 ? s[i - 2] : -1, s[i - 1]));
      ++n;
    }
  }
  if (targets) *targets = n;
  return n ? std::exp(nll / double(n)) : NAN;
}

}  // namespace asaflow::plugins
