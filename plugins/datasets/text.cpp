#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "asaflow/error.hpp"
#include "asaflow/nlp/sentence_split.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "datasets.hpp"

namespace asaflow::plugins {
namespace {

const ParamBinding<FilesParams>& binding() {
  static const auto b = files_binding("text files");
  return b;
}

constexpr std::size_t kPieceBytes = std::size_t(4) << 20;

// Plain UTF-8 text: sentence-split and tokenised here, tagged by the preprocess stage.
class Text : public StageComponent {
 public:
  Text()
      : StageComponent(
            ComponentInfo::of("dataset", "text", "1.0.0")
                .describe("plain UTF-8 text files, sentence-split; tagged later by the tagger")
                .with_params(binding().specs())
                .producing_splits([](const Params& p) { return std::vector<std::string>{binding().fill(p).split}; })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const FilesParams p = binding().fill(ctx.in.params);
    CorpusWriter writer(ctx.out.dir / Corpus::kFileName);
    for (const auto& path : p.paths) {
      std::ifstream in(path, std::ios::binary);
      if (!in) throw InputError("cannot read '" + path + "'");
      std::ostringstream s;
      s << in.rdbuf();
      const std::string text = s.str();
      if (auto bad = find_invalid_utf8(text)) {
        throw InputError(path + ": invalid UTF-8 at byte offset " + std::to_string(*bad));
      }
      writer.begin_document({std::filesystem::path(path).filename().string(), "", p.split, {}});
      // In pieces of about 4 MB that end at a blank line, where a sentence ends anyway: the
      // same sentences as splitting the whole text, without holding all of its words.
      for (std::size_t from = 0; from < text.size();) {
        std::size_t to = text.size();
        if (text.size() - from > kPieceBytes) {
          const std::size_t blank = text.find("\n\n", from + kPieceBytes);
          if (blank != std::string::npos) to = blank + 2;
        }
        for (auto& words : nlp::split_plain_text(text.substr(from, to - from))) {
          Sentence sentence;
          for (auto& w : words) sentence.push_back(Token{std::move(w), "", "", -1});
          writer.write_sentence(sentence);
        }
        from = to;
      }
    }
    writer.close();
    add_split_sizes(writer.sizes(), ctx.out.results);
  }
};

}  // namespace

std::shared_ptr<Component> make_text_dataset() { return std::make_shared<Text>(); }

}  // namespace asaflow::plugins
