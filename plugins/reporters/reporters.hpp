// reporter/json and reporter/markdown: render the typed results of the stages a reporter
// needs, with the run's facts (date, commit, hardware, software, configuration), in the
// experiment-report format (shared/report-format.md).
#pragma once

#include <memory>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

std::shared_ptr<Component> make_json_reporter();
std::shared_ptr<Component> make_markdown_reporter();

inline void register_reporters(Registrar& registrar) {
  registrar.add(make_json_reporter());
  registrar.add(make_markdown_reporter());
}

}  // namespace asaflow::plugins
