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
                              const nlp::PerceptronTagger* tagger) {
  AnnotatedWords out;
  for (const Sentence* s : sentences) {
    std::vector<std::string> forms;
    bool untagged = false;
    for (const auto& t : *s) {
      forms.push_back(t.form);
      untagged = untagged || t.upos < 0;
    }
    std::vector<int> tags;
    if (untagged) {
      if (!tagger) {
        throw InputError("the corpus has untagged sentences: add a train_tagger stage to this stage's needs");
      }
      tags = tagger->tag(forms);
    }
    for (std::size_t i = 0; i < s->size(); ++i) {
      const int upos = untagged ? tags[i] : (*s)[i].upos;
      const auto& a = annotator.annotate(forms[i], upos);
      out.words.push_back(forms[i]);
      out.pos.push_back(upos);
      out.features.push_back(a.features);
      out.requirements.push_back(a.requirements);
      out.lemmas.push_back(a.lemma);
    }
  }
  return out;
}

nlp::Example align_example(const std::string& text, const AnnotatedWords& words, nlp::Gpt2Bpe& bpe,
                           AlignStats& stats) {
  const auto tokens = bpe.encode(text);
  const auto byte_word = nlp::byte_to_word(text, words.words);
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
    } else {
      e.pos.push_back(std::uint8_t(words.pos[std::size_t(w)]));
      e.features.push_back(words.features[std::size_t(w)]);
      e.requirements.push_back(words.requirements[std::size_t(w)]);
    }
  }
  return e;
}

}  // namespace asaflow::plugins
