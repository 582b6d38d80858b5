// pipelines/replicate-wikitext2.yaml, the reference's own setting, runs on WikiText-format
// files a user brings: here three small ones of this test's own making, with WikiText's
// headings, blank lines and @-@ / @,@ / @.@ escapes, at a few steps set through its vars.
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

// `lines` paragraphs of WikiText-2's raw shape: " = Heading = " lines, blank lines between
// paragraphs, punctuation split off with spaces, numbers escaped with @,@ and @.@.
std::string wikitext_file(int paragraphs, int offset) {
  static const char* kSubjects[] = {"The river",        "A small museum",      "The old bridge",
                                    "Her second album", "The railway company", "This species of bird",
                                    "The city council"};
  static const char* kVerbs[] = {"was built", "opened", "was recorded", "expanded", "was described", "moved"};
  static const char* kRest[] = {"near the northern border of the county",  "after a long public debate",
                                "with the help of several local families", "during the early years of the war",
                                "in a style that critics praised",         "before the end of the century"};
  std::string text;
  for (int p = 0; p < paragraphs; ++p) {
    const int i = p + offset;
    if (p % 4 == 0) text += " \n = Section " + std::to_string(i) + " = \n \n";
    std::string paragraph = " ";
    for (int s = 0; s < 3; ++s) {
      const int k = i * 3 + s;
      paragraph += std::string(kSubjects[k % 7]) + " " + kVerbs[(k / 7) % 6] + " " + kRest[(k / 3) % 6] + " in " +
                   std::to_string(1850 + k % 120) + " , and it cost 1 @,@ " + std::to_string(100 + k % 900) +
                   " pounds , about " + std::to_string(k % 9) + " @.@ 5 times the first well @-@ known estimate . ";
    }
    text += paragraph + "\n";
  }
  return text;
}

TEST(Replication, WikiText2PipelineRunsOnWikiTextFormatFiles) {
  if (!fs::exists(brown_dir())) GTEST_SKIP() << "Brown corpus not fetched (scripts/fetch-data.sh): the tagger needs it";
  TempDir dir;
  write_file(dir.path / "wikitext/wiki.train.raw", wikitext_file(40, 0));
  write_file(dir.path / "wikitext/wiki.valid.raw", wikitext_file(12, 100));
  write_file(dir.path / "wikitext/wiki.test.raw", wikitext_file(12, 200));
  const auto r = run_asaflow(
      "run pipelines/replicate-wikitext2.yaml --quiet --set steps=6 --set eval_every=3"
      " --set num_samples=8 --cache-dir '" +
          (dir.path / "store").string() + "'",
      source_dir(), "WIKITEXT2_DIR='" + (dir.path / "wikitext").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::path md;
  for (const auto& l : lines_of(r.out)) {
    if (const fs::path file = report_path(l); file.filename() == "report.md") md = file;
  }
  ASSERT_FALSE(md.empty()) << r.out;
  const std::string report = read_file(md);
  EXPECT_NE(report.find("Replication of the reference's WikiText-2 run (faithful preset)"), std::string::npos);
  EXPECT_NE(report.find("faithful"), std::string::npos);
  // The faithful preset counts padding in its PPL: the PPL claim gets no verdict, and says why.
  const auto at = report.find("- **untestable**: ASA reaches a lower validation PPL than the baseline");
  ASSERT_NE(at, std::string::npos) << report;
  const std::string line = report.substr(at, report.find('\n', at) - at);
  EXPECT_NE(line.find("faithful preset"), std::string::npos) << line;
  for (const char* section : {"### H6: attention mass of the baseline on ASA-allowed pairs, against controls",
                              "### Sparsity", "### Validation PPL against n-gram floors on the same tokens"}) {
    EXPECT_NE(report.find(section), std::string::npos) << section;
  }
}

}  // namespace
