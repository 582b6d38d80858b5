#include <spdlog/spdlog.h>

#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "datasets.hpp"

namespace asaflow::plugins {
namespace {

const ParamBinding<FilesParams>& binding() {
  static const auto b = files_binding("CoNLL-U files");
  return b;
}

// CoNLL-U files from any external tagger. FORM, LEMMA and UPOS are used; multiword-token
// ranges and empty nodes are skipped (their syntactic words are the tokens); "# text" is
// kept as the sentence's raw text.
class Conllu : public StageComponent {
 public:
  Conllu()
      : StageComponent(
            ComponentInfo::of("dataset", "conllu", "1.0.0")
                .describe("CoNLL-U files (UD format) from any tagger: FORM, LEMMA, UPOS")
                .with_params(binding().specs())
                .producing_splits([](const Params& p) { return std::vector<std::string>{binding().fill(p).split}; })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const FilesParams p = binding().fill(ctx.in.params);
    // A document at a time: a large file is never held whole (unless it has no
    // "# newdoc" lines, when it is one document).
    CorpusWriter writer(ctx.out.dir / Corpus::kFileName);
    for (const auto& path : p.paths) {
      CorpusReader reader(path);
      Corpus::Document d;
      while (reader.next(d)) {
        if (d.id.empty()) d.id = std::filesystem::path(path).filename().string();
        d.split = p.split;
        writer.write(d);
      }
    }
    writer.close();
    add_split_sizes(writer.sizes(), ctx.out.results);
  }
};

}  // namespace

std::shared_ptr<Component> make_conllu_dataset() { return std::make_shared<Conllu>(); }

}  // namespace asaflow::plugins
