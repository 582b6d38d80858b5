// The reporters: markdown (the experiment-report format of shared/report-format.md), json
// (the same facts as data), csv (one file per table) and html (one self-contained page with
// plots). All render the same ReportData and run even when some needed stages failed:
// the report names the runs it had to exclude.
#pragma once

#include <memory>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

std::shared_ptr<Component> make_json_reporter();
std::shared_ptr<Component> make_markdown_reporter();
std::shared_ptr<Component> make_csv_reporter();
std::shared_ptr<Component> make_html_reporter();

// kind "reporter", the common parameters (title, asa_mode, baseline_mode), and
// accepts_failed_inputs.
ComponentInfo reporter_info(const char* name, const char* summary);

inline void register_reporters(Registrar& registrar) {
  registrar.add(make_json_reporter());
  registrar.add(make_markdown_reporter());
  registrar.add(make_csv_reporter());
  registrar.add(make_html_reporter());
}

}  // namespace asaflow::plugins
