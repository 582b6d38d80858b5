#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "datasets.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

// wiki.<split>.raw or wiki.<split>.tokens: the splits whose file is there.
fs::path wikitext_file(const fs::path& dir, const std::string& split) {
  for (const char* ext : {".raw", ".tokens"}) {
    if (fs::exists(dir / ("wiki." + split + ext))) return dir / ("wiki." + split + ext);
  }
  return {};
}

struct WikiTextParams {
  std::string dir;
  std::int64_t min_words = 5;
  std::int64_t max_lines = 0;
};

const ParamBinding<WikiTextParams>& binding() {
  static const auto b =
      ParamBinding<WikiTextParams>()
          .path(&WikiTextParams::dir, "dir",
                "directory holding wiki.train.raw, wiki.valid.raw, wiki.test.raw (or .tokens)")
          .integer(&WikiTextParams::min_words, "min_words", "skip lines with fewer whitespace-separated words", 1)
          .integer(&WikiTextParams::max_lines, "max_lines", "keep at most this many examples per split (0: all)", 0);
  return b;
}

std::vector<std::string> wikitext_splits(const Params& p) {
  const std::string dir = binding().fill(p).dir;
  std::vector<std::string> splits;
  for (const char* split : {"train", "valid", "test"}) {
    if (!wikitext_file(dir, split).empty()) splits.push_back(split);
  }
  return splits;
}

// One example per raw line, filtered as the reference does (spec 3.3): kept when the
// stripped line is non-empty and has at least 5 whitespace-separated words. The line's
// text (leading space included, newline excluded) is kept for the BPE tokenizer; its words
// are the whitespace-separated tokens (WikiText is already tokenised: "@-@", "'s").
class WikiText : public StageComponent {
 public:
  WikiText()
      : StageComponent(
            ComponentInfo::of("dataset", "wikitext", "1.0.0")
                .describe("WikiText-2/103 raw files a user supplies (wiki.{train,valid,test}.raw or .tokens), one "
                          "example per line")
                .with_params(binding().specs())
                .producing_splits(wikitext_splits)) {}

 protected:
  void execute(StageContext& ctx) const override {
    const WikiTextParams p = binding().fill(ctx.in.params);
    const fs::path dir = p.dir;
    // Written a line at a time: WikiText-103's train split as Token objects would take
    // about 10 GB.
    CorpusWriter writer(ctx.out.dir / Corpus::kFileName);
    int found = 0;
    for (const char* split : {"train", "valid", "test"}) {
      const fs::path file = wikitext_file(dir, split);
      if (file.empty()) continue;
      ++found;
      std::ifstream in(file, std::ios::binary);
      if (!in) throw InputError("cannot read '" + file.string() + "'");
      std::string line;
      std::size_t line_no = 0, offset = 0, kept = 0;
      const auto max_lines = std::size_t(p.max_lines);
      while (std::getline(in, line)) {
        ++line_no;
        if (auto bad = find_invalid_utf8(line)) {
          throw InputError(file.string() + ": invalid UTF-8 at byte offset " + std::to_string(offset + *bad) +
                           " (line " + std::to_string(line_no) + ")");
        }
        offset += line.size() + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::istringstream words(line);
        Sentence sentence;
        std::string w;
        while (words >> w) sentence.push_back(Token{w, "", "", -1});
        if (sentence.size() < std::size_t(p.min_words)) continue;
        if (max_lines > 0 && kept >= max_lines) break;
        sentence.text = line;
        Corpus::Document doc{std::string(split) + ":" + std::to_string(line_no), "wikitext", split, {}};
        doc.sentences.push_back(std::move(sentence));
        writer.write(doc);
        ++kept;
      }
      ctx.out.log->info("{}: {} examples from {}", split, kept, file.string());
    }
    if (found == 0) {
      throw InputError("no WikiText files in '" + dir.string() +
                       "': expected wiki.train.raw, wiki.valid.raw, wiki.test.raw");
    }
    writer.close();
    add_split_sizes(writer.sizes(), ctx.out.results);
  }
};

}  // namespace

std::shared_ptr<Component> make_wikitext_dataset() { return std::make_shared<WikiText>(); }

}  // namespace asaflow::plugins
