// WordNet 3.0 read directly from the database files of Debian's wordnet-base package
// (/usr/share/wordnet): index.*, data.*, *.exc. Reproduces what the reference got from NLTK:
// morphy (exception lists, then detachment rules), synsets in index order, canonical synset
// names "lemma.pos.NN" as NLTK forms them, and hypernym ("@") pointers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace asaflow::nlp {

class WordNet {
 public:
  // Throws InputError naming the missing or malformed file (and line).
  static std::shared_ptr<const WordNet> load(const std::filesystem::path& dir);
  // $ASAFLOW_WORDNET_DIR when set (a machine without Debian's wordnet-base, given the
  // files), else Debian's /usr/share/wordnet.
  static std::filesystem::path default_dir();

  // Base forms of `form` (lower-cased) for pos 'n', 'v', 'a' or 'r', in NLTK's _morphy order.
  std::vector<std::string> morphy(const std::string& form, char pos) const;
  // Synset offsets of a word for a pos: every morphy form's offsets, in index order.
  std::vector<std::uint32_t> synsets(const std::string& word, char pos) const;
  // NLTK's canonical name of a synset, e.g. 8.n.. "dog.n.01" (pos 'n' or 'v').
  std::string synset_name(std::uint32_t offset, char pos) const;
  // Offsets of the synset's hypernyms ("@" pointers only, not instance hypernyms "@i").
  std::vector<std::uint32_t> hypernyms(std::uint32_t offset, char pos) const;
  // Lemma as NLTK's WordNetLemmatizer gives it: the shortest morphy form, else the word.
  std::string lemmatize(const std::string& word, char pos) const;

 private:
  struct PosData {
    std::unordered_map<std::string, std::vector<std::uint32_t>> index;  // lemma -> offsets
    std::unordered_map<std::string, std::vector<std::string>> exceptions;
    std::string data;  // the data.<pos> file; offsets are byte offsets into it
  };
  const PosData* pos_data(char pos) const;
  const char* line_at(std::uint32_t offset, char pos) const;
  PosData noun_, verb_, adj_, adv_;
};

}  // namespace asaflow::nlp
