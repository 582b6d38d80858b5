// Outputs where users look (issue 14, points 1 and 5): `publish`, each stage's log kept with
// its entry, `asaflow show`, `asaflow dag`, the bash completion script and each command's
// own --help and options, run through the asaflow executable.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "asaflow/publish.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace asaflow::test;

namespace {

const char* kPipeline = R"(pipeline: ws
stages:
  words: {uses: dataset/text_files, params: {paths: [corpus]}}
  stats: {uses: metric/corpus_stats, needs: words, matrix: {lowercase: [false, true]}, publish: results/stats}
  lengths: {uses: metric/sentence_lengths, needs: words, publish: {to: results/lengths, mode: symlink}}
  report: {uses: reporter/markdown, needs: [stats, lengths], publish: results/report}
)";

class Workspace : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir.path / "corpus/a.txt", "The cat sat on the mat. The dog ate bread!\n");
    write_file(dir.path / "p.yaml", kPipeline);
  }
  CommandResult asaflow(const std::string& args) { return run_asaflow(args, dir.path); }
  fs::path at(const std::string& relative) const { return dir.path / relative; }
  TempDir dir;
};

TEST_F(Workspace, PublishedOutputsEqualTheStoreAndFollowEachRun) {
  auto r = asaflow("run p.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A matrix stage: one directory per cell; copies, the log and the marker.
  for (const char* cell : {"lowercase=false", "lowercase=true"}) {
    const fs::path d = at(std::string("results/stats/") + cell);
    ASSERT_TRUE(fs::exists(d / "results.json")) << d;
    EXPECT_FALSE(fs::is_symlink(d / "results.json"));
    const json marker = json::parse(read_file(d / ".asaflow-published"));
    EXPECT_EQ(marker["cell"], std::string("stats[") + cell + "]");
    EXPECT_EQ(read_file(d / "results.json"), read_file(fs::path(marker["store"].get<std::string>()) / "results.json"));
  }
  // symlink mode: links into the store.
  ASSERT_TRUE(fs::is_symlink(at("results/lengths/results.json")));
  EXPECT_NE(fs::read_symlink(at("results/lengths/results.json")).string().find("/.asaflow/objects/"),
            std::string::npos);
  // The report line points at the published copy, as a file:// URL.
  EXPECT_NE(r.out.find("report: file://" + at("results/report/report.md").string()), std::string::npos) << r.out;
  // Each stage's log is kept with its output (the text_files dataset logs what it read).
  EXPECT_TRUE(fs::exists(at("results/stats/lowercase=true/stage.log")));
  const json words = json::parse(asaflow("show p.yaml words --json").out);
  EXPECT_NE(read_file(words["log"].get<std::string>()).find("read 1 files, "), std::string::npos);

  // A cached run leaves an up-to-date publication alone and restores a removed file.
  const std::string before = read_file(at("results/stats/lowercase=true/.asaflow-published"));
  fs::remove(at("results/stats/lowercase=false/results.json"));
  r = asaflow("run p.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("published stats[lowercase=false]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("published stats[lowercase=true]"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(at("results/stats/lowercase=false/results.json")));
  EXPECT_EQ(read_file(at("results/stats/lowercase=true/.asaflow-published")), before);

  // A new result replaces the publication whole: a file the old one had is gone.
  write_file(at("results/stats/lowercase=true/extra.txt"), "left by the user inside a publication");
  write_file(at("corpus/a.txt"), "Other words entirely here.\n");
  r = asaflow("run p.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(at("results/stats/lowercase=true/extra.txt")));
  EXPECT_NE(read_file(at("results/stats/lowercase=true/.asaflow-published")), before);
}

TEST_F(Workspace, ADirectoryAsaflowDidNotPublishIsNeverReplaced) {
  write_file(at("results/report/notes.txt"), "mine");
  auto r = asaflow("run p.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: publish: refusing to replace '" + at("results/report").string() +
                       "' (for report): asaflow did not publish it"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(at("results/report/notes.txt")), "mine");
  // Nothing computed was lost: once the directory is moved, everything is a cache hit.
  fs::rename(at("results/report"), at("mine"));
  r = asaflow("run p.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 ran, 5 cached"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(at("results/report/report.md")));
}

TEST_F(Workspace, ShowSaysWhereACellsOutputsAreAndWhatMadeThem) {
  auto r = asaflow("show p.yaml 'stats[lowercase=true]'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("state:     never run: upstream 'words' must run first"), std::string::npos) << r.out;
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  r = asaflow("show p.yaml 'stats[lowercase=true]'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("state:     cached (key "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("published: " + at("results/stats/lowercase=true").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("params:    lowercase=true"), std::string::npos) << r.out;
  // Where it was made, as far as a result's bits depend on it (the CPU study measured a
  // rerun on another machine 0.35 PPL away): the CPU's model and its BLAS kernel set.
  std::string cpu;
  {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("model name", 0) == 0) {
        cpu = line.substr(line.find(':') + 2);
        break;
      }
  }
  EXPECT_NE(r.out.find("machine:   " + cpu), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("; OPENBLAS_CORETYPE "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  results.json"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  tokens{dataset=words}"), std::string::npos) << r.out;

  // As JSON; a stage name shows each of its cells.
  const json cells = json::parse(asaflow("show p.yaml stats --json").out);
  ASSERT_EQ(cells.size(), 2u);
  const fs::path out = cells[1]["output_dir"].get<std::string>();
  EXPECT_TRUE(fs::exists(out / "results.json"));
  EXPECT_EQ(cells[1]["files"][0]["path"], "results.json");
  EXPECT_EQ(cells[1]["files"][0]["size"], fs::file_size(out / "results.json"));

  // Stale: the last run's entry is shown, and said to be not the current one.
  write_file(at("corpus/a.txt"), "Changed.\n");
  const json stale = json::parse(asaflow("show p.yaml 'stats[lowercase=true]' --json").out);
  EXPECT_EQ(stale["state"], "stale");
  EXPECT_TRUE(stale.contains("shown"));
  EXPECT_EQ(stale["output_dir"], out.string());

  r = asaflow("show p.yaml 'stats[lowercase=maybe]'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: no stage or cell named 'stats[lowercase=maybe]' in pipeline 'ws'"), std::string::npos)
      << r.err;
}

// A report whose inputs were computed on different machines says which came from where
// (its Hardware line is its own machine).
TEST_F(Workspace, AReportSaysWhenItsInputsCameFromDifferentMachines) {
  ASSERT_EQ(asaflow("run p.yaml").exit_code, 0);
  const std::string report = read_file(at("results/report/report.md"));
  EXPECT_EQ(report.find("machines (the Hardware line"), std::string::npos) << report;
  // lengths' record now says another machine computed it, as a shared store would.
  const json lengths = json::parse(asaflow("show p.yaml lengths --json").out);
  const fs::path manifest = fs::path(lengths["output_dir"].get<std::string>()).parent_path() / "manifest.json";
  json m = json::parse(read_file(manifest));
  m["meta"]["machine"] = "Another CPU (family 1, model 2, avx2); OPENBLAS_CORETYPE Haswell";
  fs::permissions(manifest, fs::perms::owner_write, fs::perm_options::add);
  write_file(manifest, m.dump());
  auto r = asaflow("run p.yaml --force report");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string mixed = read_file(at("results/report/report.md"));
  EXPECT_NE(mixed.find("computed on 2 machines (the Hardware line is the report's own): "), std::string::npos) << mixed;
  EXPECT_NE(mixed.find("Another CPU (family 1, model 2, avx2); OPENBLAS_CORETYPE Haswell: lengths"), std::string::npos)
      << mixed;
  EXPECT_NE(mixed.find(": stats[lowercase=false], stats[lowercase=true]"), std::string::npos) << mixed;
}

TEST_F(Workspace, DagPrintsTheGraphAsTextDotAndMermaid) {
  auto r = asaflow("dag p.yaml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("report  (reporter/markdown)  <- stats[lowercase=false], stats[lowercase=true], lengths"),
            std::string::npos)
      << r.out;
  r = asaflow("dag p.yaml --format dot");
  EXPECT_NE(r.out.find("\"words\" -> \"stats[lowercase=true]\";"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("digraph \"ws\" {", 0), 0u) << r.out;
  r = asaflow("dag p.yaml lengths --format mermaid");  // a target: it and its ancestors only
  EXPECT_EQ(r.out,
            "flowchart LR\n  c0[\"words<br/>dataset/text_files\"]\n  c1[\"lengths<br/>metric/sentence_lengths\"]\n  c0 "
            "--> c1\n");
  r = asaflow("dag p.yaml --format svg");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--format must be text, dot or mermaid"), std::string::npos) << r.err;
}

TEST_F(Workspace, BashCompletionCompletesCommandsAndStages) {
  auto r = asaflow("completion bash");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(at("completion.sh"), r.out);
  // Sourced in bash with the words typed so far; prints what it offers.
  auto complete = [&](const std::string& words) {
    write_file(at("try.sh"),
               "PATH='" + asaflow_binary().parent_path().string() +
                   "':$PATH\nsource completion.sh\n"
                   "COMP_WORDS=(" +
                   words + ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_asaflow\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n");
    return run_command("bash try.sh", dir.path).out;
  };
  EXPECT_NE(complete("asaflow sh").find("show\n"), std::string::npos);
  EXPECT_NE(complete("asaflow run p.yaml st").find("stats\n"), std::string::npos);
  EXPECT_NE(complete("asaflow run p.yaml 'stats['").find("stats[lowercase=true]\n"), std::string::npos);
  EXPECT_NE(complete("asaflow run --").find("--jobs\n"), std::string::npos);
  EXPECT_EQ(asaflow("completion zsh").exit_code, 2);
}

TEST_F(Workspace, EveryRunIsRecordedAndRunsListsSortsFiltersAndCompares) {
  const std::string slow = " --plugin-dir '" + (fixture_dir() / "slow").string() + "'";
  write_file(at("s.yaml"),
             "pipeline: sweep\ndesc: waiting times\nvars: {base: 10}\nstages:\n"
             "  w: {uses: stage/slow_copy, matrix: {sleep_ms: [\"${base}\", 30]}}\n");
  ASSERT_EQ(asaflow("run s.yaml -q" + slow).exit_code, 0);
  ASSERT_EQ(asaflow("run s.yaml -q --set base=50" + slow).exit_code, 0);
  ASSERT_EQ(asaflow("run p.yaml -q").exit_code, 0);  // another pipeline, its own store here too
  auto r = asaflow("runs s.yaml --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json runs = json::parse(r.out);
  ASSERT_EQ(runs.size(), 3u);  // one store beside both pipelines
  const json& first = runs[0];
  EXPECT_EQ(first["pipeline"], "sweep");
  EXPECT_EQ(first["title"], "waiting times");
  EXPECT_EQ(first["id"].get<std::string>().size(), 8u);
  EXPECT_EQ(first["ran"], 2);
  // The headline figure the stage declared: its mean over the cells.
  ASSERT_EQ(first["headline"].size(), 1u);
  EXPECT_EQ(first["headline"][0]["metric"], "waited_ms");
  EXPECT_EQ(first["headline"][0]["direction"], "lower");
  EXPECT_DOUBLE_EQ(first["headline"][0]["mean"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(runs[1]["headline"][0]["mean"].get<double>(), 40.0);
  EXPECT_EQ(runs[1]["set"], json::array({"base=50"}));

  // Filter and sort; CSV has a column per headline metric.
  r = asaflow("runs s.yaml --filter pipeline=sweep --sort -waited_ms --csv");
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "id,started,pipeline,title,commit,status,ran,cached,failed,skipped,seconds,set,waited_ms");
  EXPECT_EQ(lines[1].rfind(runs[1]["id"].get<std::string>(), 0), 0u) << r.out;  // 40 ms first
  EXPECT_NE(lines[1].find(",base=50,40"), std::string::npos) << lines[1];
  r = asaflow("runs s.yaml --filter status=failed");
  EXPECT_NE(r.out.find("no runs recorded"), std::string::npos) << r.out;

  // Two ids (prefixes will do): what changed between the runs.
  r = asaflow("runs s.yaml " + runs[0]["id"].get<std::string>().substr(0, 5) + " " + runs[1]["id"].get<std::string>());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("set: -  ->  base=50"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("w[sleep_ms=10]: only in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 cells with the same parameters and result"), std::string::npos) << r.out;  // sleep_ms=30
  EXPECT_NE(r.out.find("waited_ms  20 -> 40  (20)"), std::string::npos) << r.out;
  r = asaflow("runs s.yaml zzzzzzzz " + runs[1]["id"].get<std::string>());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no run 'zzzzzzzz'"), std::string::npos) << r.err;
}

TEST(FileUrl, EncodesWhatAUrlCannotHold) {
  EXPECT_EQ(asaflow::file_url("/tmp/a b/100%/r\xc3\xa9sum\xc3\xa9.md"), "file:///tmp/a%20b/100%25/r%C3%A9sum%C3%A9.md");
  EXPECT_EQ(asaflow::file_url("/x/./y/../report.md"), "file:///x/report.md");
}

}  // namespace

// Each built-in command prints its own help with its own options (before, every --help
// printed the same page and exited from inside option parsing); an unknown command is an
// error, never another command. An option another command reads is refused: bad input 86.
TEST(Commands, EachHasItsOwnHelpAndAnUnknownOneIsAnError) {
  TempDir d;
  std::set<std::string> pages;
  for (const std::string name : {"run", "validate", "status", "why", "plugins", "cache", "gc", "pin", "unpin"}) {
    auto help = run_asaflow(name + " --help", d.path);
    EXPECT_EQ(help.exit_code, 0) << name << ": " << help.err;
    EXPECT_EQ(help.out.rfind("usage: asaflow " + name + " ", 0), 0u) << help.out;
    EXPECT_NE(help.out.find("exit codes:"), std::string::npos) << help.out;
    pages.insert(help.out);
  }
  EXPECT_EQ(pages.size(), 9u);
  // Each page lists the options its command reads and no other: gc has no executor, run no
  // --checkpoints; the positional catch-all is never listed.
  const auto lists = [&d](const std::string& command, const std::string& option) {
    return run_asaflow(command + " --help", d.path).out.find("  " + option + " ") != std::string::npos;
  };
  EXPECT_TRUE(lists("gc", "--checkpoints"));
  EXPECT_TRUE(lists("gc", "-n [ --dry-run ]"));
  EXPECT_FALSE(lists("gc", "--executor"));
  EXPECT_TRUE(lists("run", "--executor"));
  EXPECT_FALSE(lists("run", "--checkpoints"));
  EXPECT_FALSE(lists("validate", "--threads"));
  EXPECT_FALSE(lists("run", "--args"));
  auto usage = run_asaflow("--help", d.path);
  EXPECT_NE(usage.out.find("\n  why STAGE -p PIPELINE   why a stage would rerun"), std::string::npos) << usage.out;
  EXPECT_NE(usage.out.find("\n  gc PIPELINE         delete cache entries"), std::string::npos) << usage.out;
  auto unknown = run_asaflow("gcc p.yaml", d.path);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.err.rfind("error: unknown command 'gcc' (did you mean 'gc'?)", 0), 0u) << unknown.err;
}
