// Sentence splitting and word tokenisation of plain text, for raw-text datasets: blank
// lines end paragraphs, ". ! ?" end sentences (closing quotes and brackets stay with the
// sentence), words keep inner apostrophes, hyphens and periods ("don't", "U.S.", "3.5")
// and the : / , between digits ("5:30", "12/25", "1,000"); URLs, e-mail addresses and
// emoticons stay whole; other punctuation, Unicode quotes and dashes and emoji become one
// token per character.
#pragma once

#include <string>
#include <vector>

namespace asaflow::nlp {

std::vector<std::vector<std::string>> split_plain_text(const std::string& text);

}  // namespace asaflow::nlp
