#include "asaflow/nlp/asa_tables.hpp"

#include "asaflow/installation.hpp"

#include <fstream>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/nlp_config.hpp"

namespace fs = std::filesystem;

namespace asaflow::nlp {

const char* const kFeatureNames[kFeatureCount] = {"ANIMATE",  "HUMAN",    "ANIMAL",        "ORGANIZATION", "CONCRETE",
                                                  "LOCATION", "ABSTRACT", "COMMUNICATION", "COGNITION",    "EMOTION",
                                                  "EVENT",    "TIME",     "INSTRUMENT",    "COMESTIBLE",   "BODY_PART"};

int feature_id(const std::string& name) {
  for (int i = 0; i < kFeatureCount; ++i) {
    if (name == kFeatureNames[i]) return i;
  }
  return -1;
}

std::string format_features(FeatureSet set) {
  std::string out;
  for (int f = 0; f < kFeatureCount; ++f) {
    if (set & (1u << f)) out += (out.empty() ? "" : ",") + std::string(kFeatureNames[f]);
  }
  return out.empty() ? "-" : out;
}

namespace {

// Rows of a two-column tab-separated table, comments and blank lines skipped.
struct Row {
  std::string key, value;
  std::string where;  // "file:line"
};

std::vector<Row> read_table(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read ASA table '" + file.string() + "'");
  std::vector<Row> rows;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = file.string() + ":" + std::to_string(line_no);
    auto tab = line.find('\t');
    if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos) {
      throw InputError(where + ": expected two tab-separated columns");
    }
    rows.push_back(Row{line.substr(0, tab), line.substr(tab + 1), where});
  }
  return rows;
}

FeatureSet parse_features(const Row& row) {
  if (row.value == "-") return 0;
  FeatureSet set = 0;
  std::size_t start = 0;
  while (start <= row.value.size()) {
    auto comma = row.value.find(',', start);
    std::string name = row.value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int id = feature_id(name);
    if (id < 0) throw InputError(row.where + ": unknown feature '" + name + "'");
    set |= FeatureSet(1u << id);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return set;
}

}  // namespace

fs::path AsaTables::default_dir() { return shared_data_dir("tables", kTablesDir); }

AsaTables AsaTables::load(const fs::path& dir, const std::string& verb_table) {
  if (verb_table != "effective" && verb_table != "fixed") {
    throw ConfigError("verb table must be 'effective' or 'fixed', not '" + verb_table + "'");
  }
  AsaTables t;
  auto file = [&](const char* name) {
    t.files.push_back(dir / name);
    return dir / name;
  };
  for (const auto& r : read_table(file("synset_features.tsv"))) t.synset_features[r.key] = parse_features(r);
  for (const auto& r : read_table(file("verb_class_requirements.tsv"))) t.class_requirements[r.key] = parse_features(r);
  for (const auto& r : read_table(file("pronouns.tsv"))) t.pronouns[r.key] = parse_features(r);
  for (const auto& r : read_table(file(verb_table == "fixed" ? "verb_classes_fixed.tsv" : "verb_classes.tsv"))) {
    if (!t.class_requirements.count(r.value)) throw InputError(r.where + ": unknown verb class '" + r.value + "'");
    t.verb_class[r.key] = r.value;
  }
  for (const auto& r : read_table(file("pos_pairs.tsv"))) {
    int a = upos_id(r.key), b = upos_id(r.value);
    if (a < 0 || b < 0) throw InputError(r.where + ": unknown UPOS tag in pair '" + r.key + "', '" + r.value + "'");
    t.pos_matrix[a][b] = t.pos_matrix[b][a] = true;
  }
  const int punct = upos_id("PUNCT");
  for (int i = 0; i < 17; ++i) {
    t.pos_matrix[i][i] = true;
    t.pos_matrix[punct][i] = t.pos_matrix[i][punct] = true;
  }
  return t;
}

}  // namespace asaflow::nlp
