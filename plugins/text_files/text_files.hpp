// dataset/text_files: plain UTF-8 text files, or whitespace-tokenised "word/TAG" files such
// as the Brown corpus with its tags stripped, read into a Corpus (corpus.conllu).
#pragma once

#include <string>
#include <vector>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_text_files(Registrar& registrar);

}  // namespace asaflow::plugins
