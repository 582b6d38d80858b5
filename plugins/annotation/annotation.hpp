// The annotation plugin: trains the UPOS tagger (stage/train_tagger), turns corpora into
// the per-token arrays the model consumes (stage/preprocess), and prints ASA annotations of
// a sentence (command/annotate).
#pragma once

#include <memory>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

std::shared_ptr<Component> make_train_tagger();
std::shared_ptr<Component> make_evaluate_tagger();
std::shared_ptr<Component> make_preprocess();
std::shared_ptr<Component> make_annotate_command();

inline void register_annotation(Registrar& registrar) {
  registrar.add(make_train_tagger());
  registrar.add(make_evaluate_tagger());
  registrar.add(make_preprocess());
  registrar.add(make_annotate_command());
}

}  // namespace asaflow::plugins
