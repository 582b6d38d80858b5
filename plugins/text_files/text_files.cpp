#include "text_files.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/nlp/sentence_split.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read '" + file.string() + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

enum class Format { kPlain, kWordTag };

struct TextFilesParams {
  std::vector<std::string> paths;
  Format format = Format::kPlain;
  std::string name_regex = ".*";
  std::int64_t max_files = 0;
};

const ParamBinding<TextFilesParams>& binding() {
  static const auto b =
      ParamBinding<TextFilesParams>()
          .paths(&TextFilesParams::paths, "paths", "files or directories to read (directories recursively)")
          .enumeration(&TextFilesParams::format, "format",
                       "plain: sentence-split and tokenise; word_tag: one sentence per line of word/TAG tokens, tags "
                       "stripped",
                       EnumNames<Format>{{"plain", Format::kPlain}, {"word_tag", Format::kWordTag}})
          .string(&TextFilesParams::name_regex, "name_regex", "only files whose name matches (ECMAScript regex)")
          .integer(&TextFilesParams::max_files, "max_files", "read at most this many files (0: all)", 0);
  return b;
}

class TextFiles : public StageComponent {
 public:
  TextFiles()
      : StageComponent(ComponentInfo::of("dataset", "text_files", "1.0.0")
                           .describe("UTF-8 text files or directories -> corpus.conllu (documents, sentences, tokens)")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    const TextFilesParams p = binding().fill(ctx.in.params);
    std::regex name_filter;
    try {
      name_filter = std::regex(p.name_regex);
    } catch (const std::regex_error& e) {
      throw InputError("dataset/text_files: name_regex '" + p.name_regex +
                       "' is not a valid regular expression: " + e.what());
    }
    std::vector<std::pair<fs::path, std::string>> files;  // path, document id
    for (const auto& root : p.paths) {
      if (fs::is_regular_file(root)) {
        files.emplace_back(root, fs::path(root).filename().string());
        continue;
      }
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_regular_file() && std::regex_match(e.path().filename().string(), name_filter)) {
          found.push_back(e.path());
        }
      }
      std::sort(found.begin(), found.end());
      for (const auto& f : found) files.emplace_back(f, fs::relative(f, root).generic_string());
    }
    const auto max_files = p.max_files;
    if (max_files > 0 && std::int64_t(files.size()) > max_files) files.resize(std::size_t(max_files));
    if (files.empty()) throw InputError("dataset/text_files: no files matched in the given paths");

    const bool word_tag = p.format == Format::kWordTag;
    ctx.out.progress.set_total(std::int64_t(files.size()), "files");
    CorpusWriter writer(ctx.out.dir / Corpus::kFileName);  // a file at a time, never the whole corpus
    std::size_t tokens = 0;
    for (const auto& [file, id] : files) {
      const std::string text = read_file(file);
      if (auto bad = find_invalid_utf8(text)) {
        throw InputError(file.string() + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
      }
      Corpus::Document doc;
      doc.id = id;
      if (word_tag) {
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
          Sentence sentence;
          std::istringstream words(line);
          std::string item;
          while (words >> item) {
            auto slash = item.rfind('/');
            Token t;
            if (slash == std::string::npos || slash == 0) {
              t.form = item;
            } else {
              t.form = item.substr(0, slash);
              t.xpos = item.substr(slash + 1);
            }
            sentence.push_back(std::move(t));
          }
          if (!sentence.empty()) doc.sentences.push_back(std::move(sentence));
        }
      } else {
        for (auto& words : nlp::split_plain_text(text)) {
          Sentence sentence;
          for (auto& w : words) sentence.push_back(Token{std::move(w), "", "", -1});
          doc.sentences.push_back(std::move(sentence));
        }
      }
      for (const auto& s : doc.sentences) tokens += s.size();
      writer.write(doc);
      ctx.out.progress.advance();
    }
    writer.close();
    ctx.out.log->info("read {} files, {} tokens", files.size(), tokens);
    ctx.out.results.add("files", double(files.size()));
    ctx.out.results.add("tokens", double(tokens));
  }
};

}  // namespace

void register_text_files(Registrar& registrar) { registrar.add(std::make_shared<TextFiles>()); }

}  // namespace asaflow::plugins
