#include "annotation_pipeline.hpp"

#include "asaflow/error.hpp"
#include "asaflow/nlp/alignment.hpp"

namespace asaflow::plugins {

std::string text_of(const std::vector<const Sentence*>& sentences) {
  std::string text;
  for (const Sentence* s : sentences) {
    if (!text.empty()) text += ' ';
    if (!s->text.empty()) {
      text += s->text;
      continue;
    }
    for (std::size_t i = 0; i < s->size(); ++i) {
      if (i) text += ' ';
      text += (*s)[i].form;
    }
  }
  return text;
}

AnnotatedWords annotate_words(const std::vector<const Sentence*>& sentences, nlp::Annotator& annotator,
                              const nlp::PerceptronTagger* tagger, const AnnotationOptions& options) {
  AnnotatedWords out;
  for (const Sentence* s : sentences) {
    std::vector<std::string> forms;
    bool untagged = options.retag;
    for (const auto& t : *s) {
      forms.push_back(t.form);
      untagged = untagged || t.upos < 0;
    }
    std::vector<int> tags;
    if (untagged) {
      if (!tagger) {
        throw InputError(options.retag
                             ? "tags: tagger needs a train_tagger stage in this stage's needs"
                             : "the corpus has untagged sentences: add a train_tagger stage to this stage's needs");
      }
      tags = tagger->tag(forms);
      out.tagged_by_tagger += forms.size();
    }
    const std::size_t start = out.words.size();
    for (std::size_t i = 0; i < s->size(); ++i) {
      const int upos = untagged ? tags[i] : (*s)[i].upos;
      const auto& a = annotator.annotate(forms[i], upos);
      out.words.push_back(forms[i]);
      out.pos.push_back(upos);
      out.features.push_back(a.features);
      out.requirements.push_back(a.requirements);
      out.lemmas.push_back(a.lemma);
      out.sentence_start.push_back(start);
    }
  }
  return out;
}

nlp::Example align_example(const std::string& text, const AnnotatedWords& words, nlp::Gpt2Bpe& bpe, AlignStats& stats,
                           const AnnotationOptions& options, const nlp::PerceptronTagger* tagger,
                           nlp::Annotator* annotator) {
  if (options.prefix_pieces && (!tagger || !annotator)) {
    throw InputError(
        "prefix pieces need a context-left tagger (tags: tagger and a train_tagger stage with context: left)");
  }
  const auto tokens = bpe.encode(text);
  const auto byte_word = nlp::byte_to_word(text, words.words);
  // Each word's byte span in the text, for prefix pieces.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> span(words.words.size(), {0, 0});
  if (options.prefix_pieces) {
    std::vector<bool> seen(words.words.size(), false);
    for (std::uint32_t b = 0; b < byte_word.size(); ++b) {
      const auto w = byte_word[b];
      if (w < 0) continue;
      if (!seen[std::size_t(w)]) span[std::size_t(w)].first = b;
      seen[std::size_t(w)] = true;
      span[std::size_t(w)].second = b + 1;
    }
  }
  nlp::Example e;
  e.ids.reserve(tokens.size());
  for (const auto& t : tokens) {
    const std::int32_t w = nlp::word_of_token(byte_word, t.begin, t.end);
    e.ids.push_back(t.id);
    e.word_index.push_back(w);
    if (w < 0) {
      ++stats.unaligned;
      e.pos.push_back(std::uint8_t(kUposX));
      e.features.push_back(0);
      e.requirements.push_back(0);
      continue;
    }
    const auto wi = std::size_t(w);
    if (options.prefix_pieces && t.end < span[wi].second && t.end > span[wi].first) {
      // The piece ends inside its word: annotate the prefix as the word after the
      // sentence's earlier words, with their (left-context) tags.
      const std::string form = text.substr(span[wi].first, t.end - span[wi].first);
      const std::size_t s0 = words.sentence_start[wi];
      const std::vector<std::string> before(words.words.begin() + std::ptrdiff_t(s0),
                                            words.words.begin() + std::ptrdiff_t(wi));
      const std::vector<int> tags(words.pos.begin() + std::ptrdiff_t(s0), words.pos.begin() + std::ptrdiff_t(wi));
      const int upos = tagger->tag_prefix(before, tags, form);
      const auto& a = annotator->annotate(form, upos);
      ++stats.prefix_pieces;
      e.pos.push_back(std::uint8_t(upos));
      e.features.push_back(a.features);
      e.requirements.push_back(a.requirements);
      continue;
    }
    e.pos.push_back(std::uint8_t(words.pos[wi]));
    e.features.push_back(words.features[wi]);
    e.requirements.push_back(words.requirements[wi]);
  }
  return e;
}

std::string annotation_label(bool retag, const nlp::PerceptronTagger* tagger, bool prefix_pieces, bool* causal,
                             bool word_tokens) {
  const bool left = tagger && tagger->context() == nlp::TaggerContext::kLeft;
  const bool is_causal = retag && left && (prefix_pieces || word_tokens);
  if (causal) *causal = is_causal;
  std::string label = retag ? std::string("tagger (context ") + (left ? "left" : "both") + ")" : "gold tags";
  label += word_tokens ? ", word tokens" : prefix_pieces ? ", prefix pieces" : ", word pieces";
  if (is_causal) label += " [causal]";
  return label;
}

}  // namespace asaflow::plugins
