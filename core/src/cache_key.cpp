#include "asaflow/cache_key.hpp"

#include "asaflow/hash.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/version.hpp"

using nlohmann::json;

namespace asaflow {
namespace {

std::string show(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

std::string short_digest(const json& j) {
  std::string s = show(j);
  return s.size() > 12 ? s.substr(0, 12) : s;
}

// Lines for one object-valued part: added, removed, changed entries.
void diff_map(const json& before, const json& after, const std::string& what, bool digests,
              std::vector<std::string>& out) {
  auto value = [&](const json& j) { return digests ? short_digest(j) : show(j); };
  for (const auto& [k, v] : after.items()) {
    if (!before.contains(k)) {
      out.push_back(what + " '" + k + "' added: " + value(v));
    } else if (before[k] != v) {
      out.push_back(what + " '" + k + "' changed: " + value(before[k]) + " -> " + value(v));
    }
  }
  for (const auto& [k, v] : before.items()) {
    if (!after.contains(k)) out.push_back(what + " '" + k + "' removed (was " + value(v) + ")");
  }
}

}  // namespace

json key_record(const KeyInputs& in) {
  json params = json::object();
  for (const auto& spec : in.component->info.params) {
    if (spec.type == ParamType::kPath || spec.type == ParamType::kPathList) continue;
    auto it = in.params->values().find(spec.name);
    if (it != in.params->values().end()) params[spec.name] = param_to_json(it->second);
  }
  json record = {
      {"engine", std::string("asaflow ") + kVersion + " " + kCacheFormat},
      {"component",
       {{"name", in.component->info.qualified_name()},
        {"version", in.component->info.version},
        {"library", in.component->library_digest}}},
      {"params", params},
      {"inputs", in.upstream},
      {"data", in.data},
  };
  if (!in.device.empty()) record["device"] = in.device;
  if (!in.uses.empty()) {
    json uses = json::object();
    for (const auto& [name, vd] : in.uses) uses[name] = vd.first + " " + vd.second;
    record["uses"] = uses;
  }
  return record;
}

std::string key_of(const json& record) { return sha256_hex(record.dump()); }

std::vector<std::string> explain_changes(const json& before, const json& after) {
  std::vector<std::string> out;
  if (before.value("engine", "") != after.value("engine", "")) {
    out.push_back("engine changed: " + before.value("engine", "?") + " -> " + after.value("engine", "?"));
  }
  const json& bc = before.contains("component") ? before["component"] : json::object();
  const json& ac = after.contains("component") ? after["component"] : json::object();
  const std::string name = ac.value("name", "?");
  if (bc.value("name", "") != ac.value("name", "")) {
    out.push_back("component changed: " + bc.value("name", "?") + " -> " + name);
  } else {
    if (bc.value("version", "") != ac.value("version", "")) {
      out.push_back("component " + name + " version changed: " + bc.value("version", "?") + " -> " +
                    ac.value("version", "?"));
    }
    if (bc.value("library", "") != ac.value("library", "")) {
      out.push_back("component " + name + " library changed: sha256 " + short_digest(bc.value("library", "?")) +
                    " -> " + short_digest(ac.value("library", "?")));
    }
  }
  auto part = [](const json& r, const char* k) { return r.contains(k) ? r[k] : json::object(); };
  diff_map(part(before, "params"), part(after, "params"), "parameter", false, out);
  diff_map(part(before, "data"), part(after, "data"), "data of parameter", true, out);
  diff_map(part(before, "inputs"), part(after, "inputs"), "output of input", true, out);
  diff_map(part(before, "uses"), part(after, "uses"), "used component", false, out);
  if (before.value("device", "") != after.value("device", "")) {
    out.push_back("device changed: " + before.value("device", "none") + " -> " + after.value("device", "none") +
                  " (device-dependent results are not reused)");
  }
  return out;
}

}  // namespace asaflow
