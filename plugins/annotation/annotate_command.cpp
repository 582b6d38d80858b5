#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "annotation.hpp"
#include "annotation_pipeline.hpp"
#include "asaflow/command_options.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/sentence_split.hpp"
#include "asaflow/run_info.hpp"
#include "asaflow/text_util.hpp"

namespace asaflow::plugins {
namespace {

const char* kUsage =
    "usage: asaflow annotate TEXT [--tags T1,T2,...] [--tagger FILE] [--mode full|pos_only|features_only|none]\n"
    "                             [--verb-table effective|fixed] [--wordnet-dir DIR] [--tables-dir DIR]\n"
    "Prints each word's UPOS, lemma, features and requirements, and the word-level bonding mask\n"
    "(rows: queries, columns: keys; 1 = allowed; before the causal mask). Tags come from --tags\n"
    "(one per word) or from a tagger model (--tagger, the tagger.bin of a train_tagger stage).\n";

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

class Annotate : public CommandComponent {
 public:
  Annotate()
      : CommandComponent(ComponentInfo::of("command", "annotate", "1.0.0")
                             .describe("asaflow annotate TEXT: ASA annotations and bonding mask of one sentence")) {}

  int execute(const std::vector<std::string>& args, const RunInfo&) const override {
    const CommandOptions o = parse_command_options("annotate", args,
                                                   {{"--tags", ""},
                                                    {"--tagger", ""},
                                                    {"--mode", "full"},
                                                    {"--verb-table", "effective"},
                                                    {"--wordnet-dir", nlp::WordNet::default_dir().string()},
                                                    {"--tables-dir", nlp::AsaTables::default_dir().string()}});
    if (o.help) {
      std::cout << kUsage;
      return 0;
    }
    const std::string text = join(o.positional, " ");
    const std::string& tags_csv = o.values.at("--tags");
    const std::string& tagger_file = o.values.at("--tagger");
    const std::string& mode = o.values.at("--mode");
    if (text.empty()) throw ConfigError("asaflow annotate: give the text to annotate\n" + std::string(kUsage));

    Sentence sentence;
    for (const auto& words : nlp::split_plain_text(text))
      for (const auto& w : words) sentence.push_back(Token{w, "", "", -1});
    if (!tags_csv.empty()) {
      std::vector<std::string> tags;
      std::stringstream ss(tags_csv);
      std::string t;
      while (std::getline(ss, t, ',')) tags.push_back(t);
      if (tags.size() != sentence.size()) {
        throw ConfigError("asaflow annotate: " + std::to_string(tags.size()) + " tags for " +
                          std::to_string(sentence.size()) + " words");
      }
      for (std::size_t i = 0; i < tags.size(); ++i) {
        const int id = upos_id(tags[i]);
        if (id < 0) throw ConfigError("asaflow annotate: unknown UPOS tag '" + tags[i] + "'");
        sentence[i].upos = std::int8_t(id);
      }
    } else if (tagger_file.empty()) {
      throw ConfigError("asaflow annotate: give --tags (one UPOS per word) or --tagger (a tagger.bin)");
    }
    nlp::PerceptronTagger tagger;
    if (!tagger_file.empty()) tagger = nlp::PerceptronTagger::load(tagger_file);
    auto tables = std::make_shared<nlp::AsaTables>(
        nlp::AsaTables::load(o.values.at("--tables-dir"), o.values.at("--verb-table")));
    nlp::Annotator annotator(nlp::WordNet::load(o.values.at("--wordnet-dir")), tables);
    AnnotatedWords w = annotate_words({&sentence}, annotator, tagger_file.empty() ? nullptr : &tagger);

    if (!tagger_file.empty() && tags_csv.empty()) {
      std::cout << "tags: the tagger " << tagger_file << " (context "
                << (tagger.context() == nlp::TaggerContext::kLeft
                        ? "left: each tag from the word and the words before it"
                        : "both: it also reads the next two words")
                << ")\n\n";
    }
    std::size_t width = 6;
    for (const auto& word : w.words) width = std::max(width, word.size() + 2);
    std::cout << pad("word", width) << pad("UPOS", 7) << pad("lemma", width) << pad("features", 40) << "requirements\n";
    for (std::size_t i = 0; i < w.words.size(); ++i) {
      std::cout << pad(w.words[i], width) << pad(kUposNames[w.pos[i]], 7) << pad(w.lemmas[i], width)
                << pad(nlp::format_features(w.features[i]), 40) << nlp::format_features(w.requirements[i]) << "\n";
    }
    const nlp::Bonding b = nlp::bonding(mode, w.pos, w.features, w.requirements, *tables);
    std::cout << "\nbonding mask, mode " << mode
              << " (rows: queries, columns: keys; 1 = allowed; before the causal mask)\n";
    auto rstrip = [](std::string s) {
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    std::string header = pad("", width);
    for (const auto& word : w.words) header += pad(word, word.size() + 1);
    std::cout << rstrip(header) << "\n";
    std::size_t blocked = 0;
    for (std::size_t i = 0; i < b.n; ++i) {
      std::string row = pad(w.words[i], width);
      for (std::size_t j = 0; j < b.n; ++j) {
        row += pad(b.allowed(i, j) ? "1" : "0", w.words[j].size() + 1);
        if (i != j && !b.allowed(i, j)) ++blocked;
      }
      std::cout << rstrip(row) << "\n";
    }
    std::string compat;
    for (std::size_t i = 0; i < b.n; ++i) {
      for (std::size_t j = 0; j < b.n; ++j) {
        if (b.score(i, j) == 0.0f) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.7g", double(b.score(i, j)));
        compat += (compat.empty() ? "" : ", ") + w.words[i] + "->" + w.words[j] + " " + buf;
      }
    }
    const std::size_t off = b.n * (b.n - 1);
    char line[128];
    std::snprintf(line, sizeof line, "blocked off-diagonal pairs: %zu/%zu (%.1f%%)\n", blocked, off,
                  off ? 100.0 * double(blocked) / double(off) : 0.0);
    std::cout << "non-zero compat: " << (compat.empty() ? "none" : compat) << "\n" << line;
    return 0;
  }
};

}  // namespace

std::shared_ptr<Component> make_annotate_command() { return std::make_shared<Annotate>(); }

}  // namespace asaflow::plugins
