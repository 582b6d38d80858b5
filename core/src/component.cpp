#include "asaflow/component.hpp"

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
