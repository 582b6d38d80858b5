#include "fuzz_targets.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/logging.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/nlp/sealed_file.hpp"
#include "asaflow/nlp/sentence_split.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/text_util.hpp"
#include "corpus_stats.hpp"
#include "datasets.hpp"
#include "text_files.hpp"

namespace fs = std::filesystem;

namespace asaflow::fuzz {
namespace {

// A property the input broke: a finding, reported as a crash so libFuzzer keeps the input.
[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

// One private directory per process, reused by every input (files are overwritten) and
// removed when the process exits normally (a crash leaves it, with the input, for a look).
class WorkDir {
 public:
  WorkDir() : path_(fs::temp_directory_path() / ("asaflow-fuzz-" + std::to_string(::getpid()))) {
    fs::create_directories(path_ / "data");
    std::ofstream(path_ / "data" / "a.txt") << "Some words here.\n";
  }
  ~WorkDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const fs::path& work_dir() {
  static const WorkDir dir;
  return dir.path();
}

void write(const fs::path& file, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
}

// The pipeline loader (yaml-cpp underneath): every malformed pipeline is a ConfigError with
// a location; no other exception may leave it (an unchecked node access would).
void pipeline(const std::uint8_t* data, std::size_t size) {
  static PluginHost host;
  static const bool registered = [] {
    host.add_static("text_files", "1.0.0", plugins::register_text_files);
    host.add_static("corpus_stats", "1.0.0", plugins::register_corpus_stats);
    return true;
  }();
  (void)registered;
  const fs::path file = work_dir() / "p.yaml";
  write(file, data, size);
  try {
    load_pipeline(file, host, PipelineVars{});
  } catch (const Error&) {
  }
}

// CoNLL-U: a file loads or is refused with file:line; what loads survives save and load
// again unchanged (forms, tags, documents).
void conllu(const std::uint8_t* data, std::size_t size) {
  const fs::path file = work_dir() / "in.conllu", again = work_dir() / "again.conllu";
  write(file, data, size);
  Corpus first;
  try {
    first = Corpus::load(file);
  } catch (const Error&) {
    return;
  }
  first.save(again);
  const Corpus second = Corpus::load(again);
  if (second.documents.size() != first.documents.size()) violated("conllu: documents changed in a round trip");
  for (std::size_t d = 0; d < first.documents.size(); ++d) {
    const auto& a = first.documents[d].sentences;
    const auto& b = second.documents[d].sentences;
    if (a.size() != b.size()) violated("conllu: sentences changed in a round trip");
    for (std::size_t s = 0; s < a.size(); ++s) {
      if (a[s].size() != b[s].size()) violated("conllu: tokens changed in a round trip");
      for (std::size_t t = 0; t < a[s].size(); ++t) {
        if (a[s][t].form != b[s][t].form || a[s][t].upos != b[s][t].upos)
          violated("conllu: a token changed in a round trip");
      }
    }
  }
}

// Runs a dataset component on the input as the user's file, as the executor would.
void run_dataset(const std::shared_ptr<Component>& component, std::map<std::string, ParamValue> params) {
  auto stage = std::dynamic_pointer_cast<StageComponent>(component);
  StageInputs in;
  in.params = Params(std::move(params));
  StageContext ctx(std::move(in));
  ctx.out.dir = work_dir() / "out";
  fs::create_directories(ctx.out.dir);
  ctx.out.log = named_logger("fuzz");
  try {
    stage->run(ctx);
  } catch (const Error&) {
  }
}

// WikiText raw files: one example per line, UTF-8 checked with its offset.
void wikitext(const std::uint8_t* data, std::size_t size) {
  fs::create_directories(work_dir() / "wiki");
  write(work_dir() / "wiki" / "wiki.train.raw", data, size);
  run_dataset(
      plugins::make_wikitext_dataset(),
      {{"dir", (work_dir() / "wiki").string()}, {"min_words", std::int64_t(1)}, {"max_lines", std::int64_t(0)}});
}

// Plain text: sentence splitting and tokenising never cut a UTF-8 character and never make
// an empty token; the dataset around it refuses invalid UTF-8 with its offset.
void text(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!find_invalid_utf8(bytes)) {
    for (const auto& sentence : nlp::split_plain_text(bytes)) {
      for (const auto& token : sentence) {
        if (token.empty()) violated("text: an empty token");
        if (find_invalid_utf8(token)) violated("text: a token cuts a UTF-8 character");
      }
    }
  }
  write(work_dir() / "in.txt", data, size);
  run_dataset(plugins::make_text_dataset(),
              {{"paths", std::vector<std::string>{(work_dir() / "in.txt").string()}}, {"split", std::string("train")}});
}

// Sealed binary files: the input is sealed (magic + body + SHA-256) so the parser behind the
// checksum is what gets fuzzed: every read must be bounds-checked.
template <typename Load>
void sealed(const char (&magic)[8], const std::uint8_t* data, std::size_t size, Load load) {
  nlp::SealedWriter w(magic);
  w.put(data, size);
  const fs::path file = work_dir() / "sealed.bin";
  w.save(file, "fuzz input");
  try {
    load(file);
  } catch (const Error&) {
  }
}

constexpr char kPreprocessedMagic[8] = {'A', 'S', 'A', 'P', 'R', 'E', 'P', '1'};
constexpr char kTaggerMagic[8] = {'A', 'S', 'A', 'T', 'A', 'G', '0', '3'};  // with a lexicon

void preprocessed(const std::uint8_t* data, std::size_t size) {
  sealed(kPreprocessedMagic, data, size, [](const fs::path& f) { nlp::PreprocessedSplit::load(f); });
}

void tagger(const std::uint8_t* data, std::size_t size) {
  sealed(kTaggerMagic, data, size, [](const fs::path& f) { nlp::PerceptronTagger::load(f); });
}

}  // namespace

const std::vector<NamedTarget>& targets() {
  static const std::vector<NamedTarget> all = {{"pipeline", pipeline},         {"conllu", conllu},
                                               {"wikitext", wikitext},         {"text", text},
                                               {"preprocessed", preprocessed}, {"tagger", tagger}};
  return all;
}

}  // namespace asaflow::fuzz
