// Sentence splitting and word tokenisation of plain text, for raw-text datasets: blank
// lines end paragraphs, ". ! ?" end sentences (closing quotes and brackets stay with the
// sentence), words keep inner apostrophes, hyphens and periods ("don't", "U.S.", "3.5"),
// other punctuation becomes one token per character.
#pragma once

#include <string>
#include <vector>

namespace asaflow::nlp {

std::vector<std::vector<std::string>> split_plain_text(const std::string& text);

}  // namespace asaflow::nlp
