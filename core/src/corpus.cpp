#include "asaflow/corpus.hpp"

#include <fstream>

#include "asaflow/error.hpp"

namespace asaflow {

void Corpus::save(const std::filesystem::path& file) const {
  std::ofstream out(file, std::ios::binary);
  if (!out) throw StageError("cannot write '" + file.string() + "'");
  for (const auto& doc : documents) {
    out << "#doc\t" << doc.id << "\t" << doc.genre << "\n";
    for (const auto& sentence : doc.sentences) {
      for (std::size_t i = 0; i < sentence.size(); ++i) {
        if (i) out << ' ';
        out << sentence[i];
      }
      out << '\n';
    }
  }
  out.flush();
  if (!out) throw StageError("cannot write '" + file.string() + "' (disk full?)");
}

Corpus Corpus::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read corpus '" + file.string() + "'");
  Corpus corpus;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.rfind("#doc\t", 0) == 0) {
      Document doc;
      auto tab = line.find('\t', 5);
      doc.id = line.substr(5, tab == std::string::npos ? std::string::npos : tab - 5);
      if (tab != std::string::npos) doc.genre = line.substr(tab + 1);
      corpus.documents.push_back(std::move(doc));
      continue;
    }
    if (corpus.documents.empty()) {
      throw InputError(file.string() + ":" + std::to_string(line_no) +
                       ": sentence before the first '#doc' line");
    }
    std::vector<std::string> tokens;
    std::size_t start = 0;
    while (start < line.size()) {
      std::size_t end = line.find(' ', start);
      if (end == std::string::npos) end = line.size();
      if (end > start) tokens.push_back(line.substr(start, end - start));
      start = end + 1;
    }
    if (!tokens.empty()) corpus.documents.back().sentences.push_back(std::move(tokens));
  }
  return corpus;
}

}  // namespace asaflow
