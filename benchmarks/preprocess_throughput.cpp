// Benchmark: preprocessing throughput on one core, in words per second, for the whole
// per-word path of the preprocess stage on raw (untagged) text: tag + lemma + features +
// GPT-2 BPE + alignment. Caches (annotation memo, BPE word cache) start cold in each run.
//
// usage: preprocess_throughput CORPUS.conllu TAGGER.bin GPT2_DIR [RUNS]
// (benchmarks/preprocess_throughput.sh builds the inputs with pipelines/preprocess-brown.yaml)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "annotation_pipeline.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/gpt2_bpe.hpp"
#include "asaflow/nlp/tagger.hpp"

using namespace asaflow;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s CORPUS.conllu TAGGER.bin GPT2_DIR [RUNS]\n", argv[0]);
    return 2;
  }
  Corpus corpus = Corpus::load(argv[1]);
  for (auto& d : corpus.documents)
    for (auto& s : d.sentences)
      for (auto& t : s) t.upos = -1;  // raw text: the tagger must tag every word
  const auto tagger = nlp::PerceptronTagger::load(argv[2]);
  const int runs = argc > 4 ? std::atoi(argv[4]) : 3;
  const auto wordnet = nlp::WordNet::load(nlp::WordNet::default_dir());
  const auto tables = std::make_shared<nlp::AsaTables>(nlp::AsaTables::load(nlp::AsaTables::default_dir()));
  std::vector<double> rates;
  std::size_t words = 0, tokens = 0;
  for (int r = 0; r < runs; ++r) {
    nlp::Annotator annotator(wordnet, tables);
    auto bpe = nlp::Gpt2Bpe::load(argv[3]);
    words = tokens = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& d : corpus.documents) {
      std::vector<const Sentence*> unit;
      for (const auto& s : d.sentences) unit.push_back(&s);
      auto annotated = plugins::annotate_words(unit, annotator, &tagger);
      plugins::AlignStats stats;
      auto example = plugins::align_example(plugins::text_of(unit), annotated, *bpe, stats);
      words += annotated.words.size();
      tokens += example.size();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(double(words) / s);
  }
  std::sort(rates.begin(), rates.end());
  std::printf(
      "preprocess_throughput: %zu words (%zu BPE tokens), %d runs on one thread: median %.0f words/s "
      "(min %.0f, max %.0f); tag + lemma + features + BPE + align; goal >= 200000 words/s\n",
      words, tokens, runs, rates[rates.size() / 2], rates.front(), rates.back());
  return 0;
}
