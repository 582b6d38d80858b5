#include "asaflow/nlp/tagger.hpp"

#include "asaflow/nlp/token_shape.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <string_view>

#include "asaflow/error.hpp"
#include "asaflow/nlp/sealed_file.hpp"

namespace asaflow::nlp {
namespace {

constexpr char kMagic[8] = {'A', 'S', 'A', 'T', 'A', 'G', '0', '3'};    // version 3: the lexicon
constexpr char kMagicV2[8] = {'A', 'S', 'A', 'T', 'A', 'G', '0', '2'};  // the context byte, no lexicon
constexpr char kMagicV1[8] = {'A', 'S', 'A', 'T', 'A', 'G', '0', '1'};  // context both, no lexicon
constexpr int kStart = PerceptronTagger::kClasses;                      // "-START-"
constexpr int kStart2 = PerceptronTagger::kClasses + 1;                 // "-START2-"

// FNV-1a over a feature template id and its string arguments.
struct FeatureHash {
  std::uint64_t h = 1469598103934665603ull;
  FeatureHash& add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // argument separator
    h *= 1099511628211ull;
    return *this;
  }
  FeatureHash& add(int v) {
    h ^= std::uint64_t(v + 1) * 0x9e3779b97f4a7c15ull;
    h *= 1099511628211ull;
    return *this;
  }
};

std::string_view suffix3(const std::string& s) {
  return s.size() > 3 ? std::string_view(s).substr(s.size() - 3) : std::string_view(s);
}

}  // namespace

std::string PerceptronTagger::normalize(const std::string& word) {
  if (word.find('-') != std::string::npos && word[0] != '-') return "!HYPHEN";
  if (word.size() == 4 && std::all_of(word.begin(), word.end(), ::isdigit)) return "!YEAR";
  if (!word.empty() && std::isdigit(static_cast<unsigned char>(word[0]))) return "!DIGITS";
  std::string lower = word;
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

void PerceptronTagger::features(const std::vector<std::string>& ctx, std::size_t i, const std::string& word, int prev,
                                int prev2, std::vector<std::uint64_t>& out) const {
  i += 2;  // two start symbols precede the words in ctx
  out.clear();
  out.push_back(FeatureHash().add(0).h);  // bias
  out.push_back(FeatureHash().add(1).add(suffix3(word)).h);
  out.push_back(FeatureHash().add(2).add(std::string_view(word).substr(0, word.empty() ? 0 : 1)).h);
  out.push_back(FeatureHash().add(3).add(prev).h);
  out.push_back(FeatureHash().add(4).add(prev2).h);
  out.push_back(FeatureHash().add(5).add(prev).add(prev2).h);
  out.push_back(FeatureHash().add(6).add(ctx[i]).h);
  out.push_back(FeatureHash().add(7).add(prev).add(ctx[i]).h);
  out.push_back(FeatureHash().add(8).add(ctx[i - 1]).h);
  out.push_back(FeatureHash().add(9).add(suffix3(ctx[i - 1])).h);
  out.push_back(FeatureHash().add(10).add(ctx[i - 2]).h);
  if (lexicon_.size() != 0) {  // the lexicon's first tag and first two ("-" when not listed)
    const auto* tags = lexicon_.find(word);
    const std::string_view first = tags ? std::string_view((*tags)[0]) : std::string_view("-");
    const std::string_view second = tags && tags->size() > 1 ? std::string_view((*tags)[1]) : std::string_view();
    out.push_back(FeatureHash().add(14).add(first).h);
    out.push_back(FeatureHash().add(15).add(first).add(second).h);
  }
  if (context_ == TaggerContext::kLeft) return;  // nothing after the word
  out.push_back(FeatureHash().add(11).add(ctx[i + 1]).h);
  out.push_back(FeatureHash().add(12).add(suffix3(ctx[i + 1])).h);
  out.push_back(FeatureHash().add(13).add(ctx[i + 2]).h);
}

int PerceptronTagger::predict(const std::vector<std::uint64_t>& feats) const {
  float scores[kClasses] = {};
  for (std::uint64_t f : feats) {
    auto it = weights_.find(f);
    if (it == weights_.end()) continue;
    for (int c = 0; c < kClasses; ++c) scores[c] += it->second.w[c];
  }
  return int(std::max_element(scores, scores + kClasses) - scores);
}

void PerceptronTagger::train(const std::vector<TaggedSentence>& sentences, int iterations, std::uint64_t seed,
                             const std::function<void(int)>& on_iteration, TaggerContext context) {
  context_ = context;
  weights_.clear();
  tagdict_.clear();
  known_words_.clear();
  // Tag dictionary: words seen >= 20 times with one tag >= 97% of the time.
  std::unordered_map<std::string, std::array<int, kClasses>> counts;
  for (const auto& s : sentences) {
    for (std::size_t i = 0; i < s.words.size(); ++i) {
      counts[s.words[i]][std::size_t(s.tags[i])]++;
      known_words_[s.words[i]] = true;
    }
  }
  for (const auto& [word, c] : counts) {
    const int n = std::accumulate(c.begin(), c.end(), 0);
    const auto mode = std::max_element(c.begin(), c.end());
    if (n >= 20 && double(*mode) / n >= 0.97) tagdict_[word] = int(mode - c.begin());
  }

  struct Averaged {
    float w[kClasses] = {};
    double total[kClasses] = {};
    std::int64_t stamp[kClasses] = {};
  };
  std::unordered_map<std::uint64_t, Averaged> train;
  std::int64_t instance = 0;
  auto update = [&](std::uint64_t f, int c, float v) {
    Averaged& a = train[f];
    a.total[c] += double(instance - a.stamp[c]) * a.w[c];
    a.stamp[c] = instance;
    a.w[c] += v;
  };
  auto predict_train = [&](const std::vector<std::uint64_t>& feats) {
    float scores[kClasses] = {};
    for (std::uint64_t f : feats) {
      auto it = train.find(f);
      if (it == train.end()) continue;
      for (int c = 0; c < kClasses; ++c) scores[c] += it->second.w[c];
    }
    return int(std::max_element(scores, scores + kClasses) - scores);
  };

  std::vector<std::size_t> order(sentences.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> feats;
  std::vector<std::string> ctx;
  for (int it = 0; it < iterations; ++it) {
    for (std::size_t si : order) {
      const TaggedSentence& s = sentences[si];
      ctx.assign({"-START-", "-START2-"});
      for (const auto& w : s.words) ctx.push_back(normalize(w));
      ctx.push_back("-END-");
      ctx.push_back("-END2-");
      int prev = kStart, prev2 = kStart2;
      for (std::size_t i = 0; i < s.words.size(); ++i) {
        int guess;
        auto td = tagdict_.find(s.words[i]);
        if (td != tagdict_.end()) {
          guess = td->second;
        } else {
          features(ctx, i, s.words[i], prev, prev2, feats);
          guess = predict_train(feats);
          ++instance;
          if (guess != s.tags[i]) {
            for (std::uint64_t f : feats) {
              update(f, s.tags[i], 1.0f);
              update(f, guess, -1.0f);
            }
          }
        }
        prev2 = prev;
        prev = guess;
      }
    }
    std::shuffle(order.begin(), order.end(), rng);
    if (on_iteration) on_iteration(it);
  }
  for (auto& [f, a] : train) {
    Weights w;
    bool any = false;
    for (int c = 0; c < kClasses; ++c) {
      double total = a.total[c] + double(instance - a.stamp[c]) * a.w[c];
      w.w[c] = float(total / double(std::max<std::int64_t>(instance, 1)));
      any = any || w.w[c] != 0.0f;
    }
    if (any) weights_.emplace(f, w);
  }
}

std::vector<int> PerceptronTagger::tag(const std::vector<std::string>& words) const {
  std::vector<std::string> ctx{"-START-", "-START2-"};
  for (const auto& w : words) ctx.push_back(normalize(w));
  ctx.push_back("-END-");
  ctx.push_back("-END2-");
  std::vector<int> out;
  std::vector<std::uint64_t> feats;
  int prev = kStart, prev2 = kStart2;
  for (std::size_t i = 0; i < words.size(); ++i) {
    int t;
    auto td = tagdict_.find(words[i]);
    if (const auto shaped = shape_upos(words[i], i ? words[i - 1] : std::string())) {
      t = *shaped;  // the form decides (token_shape.hpp)
    } else if (td != tagdict_.end()) {
      t = td->second;
    } else {
      features(ctx, i, words[i], prev, prev2, feats);
      t = predict(feats);
    }
    out.push_back(t);
    prev2 = prev;
    prev = t;
  }
  return out;
}

int PerceptronTagger::tag_prefix(const std::vector<std::string>& words, const std::vector<int>& tags,
                                 const std::string& form) const {
  if (context_ != TaggerContext::kLeft) {
    throw InputError(
        "this tagger was trained with context both (it reads the next two words): only a context left "
        "tagger can tag a word before the text after it exists");
  }
  if (const auto shaped = shape_upos(form, words.empty() ? std::string() : words.back())) return *shaped;
  auto td = tagdict_.find(form);
  if (td != tagdict_.end()) return td->second;
  std::vector<std::string> ctx{"-START-", "-START2-"};
  for (const auto& w : words) ctx.push_back(normalize(w));
  ctx.push_back(normalize(form));
  const std::size_t i = words.size();
  const int prev = i >= 1 ? tags[i - 1] : kStart, prev2 = i >= 2 ? tags[i - 2] : (i == 1 ? kStart : kStart2);
  std::vector<std::uint64_t> feats;
  features(ctx, i, form, prev, prev2, feats);
  return predict(feats);
}

void PerceptronTagger::save(const std::filesystem::path& file) const {
  SealedWriter w(kMagic);
  const std::uint8_t context = context_ == TaggerContext::kLeft ? 1 : 0;
  w.put(&context, 1);
  // Sorted, so the same model always gives the same bytes (and cache digest).
  std::map<std::uint64_t, Weights> weights(weights_.begin(), weights_.end());
  std::map<std::string, int> tagdict(tagdict_.begin(), tagdict_.end());
  std::vector<std::string> known;
  for (const auto& [k, v] : known_words_) known.push_back(k);
  std::sort(known.begin(), known.end());
  std::uint64_t n = weights.size();
  w.put(&n, 8);
  for (const auto& [f, ws] : weights) {
    w.put(&f, 8);
    w.put(ws.w, sizeof ws.w);
  }
  n = tagdict.size();
  w.put(&n, 8);
  for (const auto& [word, tag] : tagdict) {
    w.put_string(word);
    const std::int32_t t = tag;
    w.put(&t, 4);
  }
  n = known.size();
  w.put(&n, 8);
  for (const auto& k : known) w.put_string(k);
  const std::map<std::string, std::vector<std::string>> lexicon(lexicon_.entries().begin(), lexicon_.entries().end());
  n = lexicon.size();
  w.put(&n, 8);
  for (const auto& [form, tags] : lexicon) {
    w.put_string(form);
    const std::uint32_t k = std::uint32_t(tags.size());
    w.put(&k, 4);
    for (const auto& t : tags) w.put_string(t);
  }
  w.save(file, "tagger model");
}

PerceptronTagger PerceptronTagger::load(const std::filesystem::path& file) {
  // Version 1 files (no context byte) are context-both taggers; versions 1 and 2 have no
  // lexicon.
  const bool v1 = SealedReader::has_magic(file, kMagicV1), v2 = SealedReader::has_magic(file, kMagicV2);
  SealedReader r(file, v1 ? kMagicV1 : v2 ? kMagicV2 : kMagic, "tagger model");
  PerceptronTagger t;
  if (!v1) {
    std::uint8_t context = 0;
    r.get(&context, 1);
    if (context > 1)
      throw InputError("tagger model '" + file.string() + "' has an unknown context " + std::to_string(context));
    t.context_ = context == 1 ? TaggerContext::kLeft : TaggerContext::kBoth;
  }
  // Each section starts with its count, checked against what is left before anything is
  // allocated for it.
  auto section = [&r](std::size_t min_bytes, const char* what) {
    std::uint64_t n = 0;
    r.get(&n, 8);
    return r.count(n, min_bytes, what);
  };
  const auto weights = section(8 + sizeof(Weights::w), "weight");
  t.weights_.reserve(weights);
  for (std::size_t i = 0; i < weights; ++i) {
    std::uint64_t f = 0;
    Weights w;
    r.get(&f, 8);
    r.get(w.w, sizeof w.w);
    t.weights_.emplace(f, w);
  }
  for (std::size_t i = 0, n = section(8, "tag dictionary entry"); i < n; ++i) {
    std::string word = r.get_string();
    std::int32_t tag = 0;
    r.get(&tag, 4);
    t.tagdict_[word] = tag;
  }
  for (std::size_t i = 0, n = section(4, "known word"); i < n; ++i) t.known_words_[r.get_string()] = true;
  if (v1 || v2) return t;
  for (std::size_t i = 0, n = section(12, "lexicon entry"); i < n; ++i) {
    std::string form = r.get_string();
    std::uint32_t k = 0;
    r.get(&k, 4);
    r.count(k, 4, "lexicon tag");
    if (k == 0) throw r.corrupt("a lexicon entry without tags");
    std::vector<std::string> tags(k);
    for (auto& tag : tags) tag = r.get_string();
    t.lexicon_.add(form, std::move(tags));
  }
  return t;
}

}  // namespace asaflow::nlp
