#include "asaflow/component.hpp"

#include <cxxabi.h>

#include <cmath>
#include <cstdlib>
#include <exception>

#include "asaflow/artifact_store.hpp"
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
  for (const auto& r : ctx.out.results.records()) {
    if (std::isfinite(r.value) && (!r.sd || std::isfinite(*r.sd))) continue;
    std::string labels;
    for (const auto& [k, v] : r.labels) labels += (labels.empty() ? "" : ", ") + k + "=" + v;
    throw StageError(info().qualified_name() + " produced a non-finite value for " + r.metric +
                     (labels.empty() ? "" : " (" + labels + ")") + ": nothing was cached");
  }
}

int CommandComponent::run(const std::vector<std::string>& args, const RunInfo& run_info) const {
  try {
    return execute(args, run_info);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string message = e.what();
    throw StageError("asaflow " + info().name + ": " + message.substr(0, message.find('\n')));
  }
}

std::string type_name(const std::type_info& type) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = status == 0 && readable ? readable : type.name();
  std::free(readable);
  return name;
}

std::string input_machine(const InputArtifact& in) {
  if (in.dir.empty()) return "";
  // A committed entry: <entry>/out is the output directory, <entry>/manifest.json its record.
  const auto m = ArtifactStore::read_manifest(in.dir.parent_path());
  if (!m || !m->meta.is_object()) return "";
  const auto it = m->meta.find("machine");
  return it != m->meta.end() && it->is_string() ? it->get<std::string>() : "";
}

std::vector<const InputArtifact*> StageInputs::inputs_of_kind(const std::string& kind) const {
  std::vector<const InputArtifact*> out;
  const std::string prefix = kind + "/";
  for (const auto& in : inputs) {
    if (in.component.rfind(prefix, 0) == 0) out.push_back(&in);
  }
  return out;
}

}  // namespace asaflow
