// Cache keys. A stage's key is the SHA-256 of a canonical JSON record of everything its
// output depends on: engine version and cache format, the component (name, version, digest
// of its library), its parameters, the digests of its inputs (upstream output digests and
// data files named by path parameters), and, for device-dependent stages, the machine.
// Each part is kept separately in the record, so `why` can say which one changed.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "asaflow/export.hpp"
#include "asaflow/params.hpp"

namespace asaflow {

struct ComponentEntry;

struct ASAFLOW_API KeyInputs {
  const ComponentEntry* component = nullptr;
  const Params* params = nullptr;
  std::map<std::string, std::string> upstream;  // upstream cell id -> its output digest
  std::map<std::string, std::string> data;      // path parameter name -> content digest
  std::string device;                           // empty unless the component is device-dependent
  // Components named by parameters ("model_mode/full") -> (version, library digest).
  std::map<std::string, std::pair<std::string, std::string>> uses;
};

ASAFLOW_API nlohmann::json key_record(const KeyInputs& inputs);
ASAFLOW_API std::string key_of(const nlohmann::json& record);

// Human lines naming what differs between an old and a new record, e.g.
// "parameter 'min_count' changed: 1 -> 2". Empty when they are equal.
ASAFLOW_API std::vector<std::string> explain_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace asaflow
