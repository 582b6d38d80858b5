// ASA's fixed linguistic tables (spec section 2, Appendix A), loaded at run time from the
// TSV files in core/nlp/tables/ so a researcher can edit them without recompiling:
// the 15 semantic features, T-SYN (synset -> features), T-VCR (verb class -> required
// features), T-PRON (pronoun -> features = requirements), T-VERB (verb -> class; effective
// or fixed variant) and the POS pair list that generates the 17x17 compatibility matrix P.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace asaflow::nlp {

inline constexpr int kFeatureCount = 15;
using FeatureSet = std::uint16_t;  // bit f set: feature f (spec section 2.2 order)
extern const char* const kFeatureNames[kFeatureCount];
int feature_id(const std::string& name);      // -1 if unknown
std::string format_features(FeatureSet set);  // "ANIMATE,HUMAN" or "-"

struct AsaTables {
  std::unordered_map<std::string, FeatureSet> synset_features;     // T-SYN
  std::unordered_map<std::string, FeatureSet> class_requirements;  // T-VCR
  std::unordered_map<std::string, FeatureSet> pronouns;            // T-PRON
  std::unordered_map<std::string, std::string> verb_class;         // T-VERB
  std::array<std::array<bool, 17>, 17> pos_matrix{};               // P[query][key]
  std::vector<std::filesystem::path> files;                        // what was read

  // `verb_table` is "effective" (asa_v2_2.py, the default) or "fixed" (asa_v2_2_fixed.py).
  // Throws InputError naming file and line of a malformed entry.
  static AsaTables load(const std::filesystem::path& dir, const std::string& verb_table = "effective");
  static std::filesystem::path default_dir();
};

}  // namespace asaflow::nlp
