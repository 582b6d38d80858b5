#include "asaflow/component.hpp"

#include <cmath>
#include <exception>

#include "asaflow/error.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow {

Component::~Component() = default;
Registrar::~Registrar() = default;

void StageComponent::run(StageContext& ctx) const {
  try {
    execute(ctx);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // One line: libraries such as LibTorch append backtraces after the first.
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    throw StageError(info().qualified_name() + ": " + message);
  }
  // A non-finite figure is a failure, not a result: cached, it would be served to every
  // later run and report (a damaged checkpoint once trained to PPL inf, exited 0 and was
  // cached). Values that may be missing are left out of the records instead.
  for (const auto& r : ctx.results.records()) {
    if (std::isfinite(r.value) && (!r.sd || std::isfinite(*r.sd))) continue;
    std::string labels;
    for (const auto& [k, v] : r.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
    throw StageError(info().qualified_name() + " produced a non-finite value for " + r.metric +
                     (labels.empty() ? "" : " (" + labels + ")") + ": nothing was cached");
  }
}

std::vector<const InputArtifact*> StageContext::inputs_of_kind(const std::string& kind) const {
  std::vector<const InputArtifact*> out;
  const std::string prefix = kind + "/";
  for (const auto& in : inputs) {
    if (in.component.rfind(prefix, 0) == 0) out.push_back(&in);
  }
  return out;
}

}  // namespace asaflow
