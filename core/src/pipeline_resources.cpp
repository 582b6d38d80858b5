// `resources:` of a pipeline or a stage: what an executor other than local asks its
// scheduler for. Checked here, when the pipeline loads, so that a typo fails at once with
// its file:line:col instead of as a rejected job an hour into a sweep.
#include <regex>

#include "pipeline_loader.hpp"

namespace asaflow {

Resources Resources::overlaid(const Resources& over) const {
  Resources r = *this;
  if (over.cpus > 0) r.cpus = over.cpus;
  if (!over.memory.empty()) r.memory = over.memory;
  if (over.gpus > 0) r.gpus = over.gpus;
  if (over.tasks > 0) r.tasks = over.tasks;
  if (!over.time.empty()) r.time = over.time;
  if (!over.partition.empty()) r.partition = over.partition;
  if (!over.account.empty()) r.account = over.account;
  return r;
}

namespace loader {
namespace {

// Slurm's forms: --mem takes a number with an optional K, M, G or T suffix; --time takes
// minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS.
const std::regex kMemory(R"(^[0-9]+[KMGT]?$)");
const std::regex kTime(R"(^([0-9]+-)?[0-9]+(:[0-9]{1,2}){0,2}$)");
const std::regex kName(R"(^[A-Za-z0-9_.+-]+$)");

}  // namespace

Resources Loader::parse_resources(const YAML::Node& node, const std::string& path) {
  Resources r;
  if (!node.IsMap()) {
    error(node, path,
          "'resources' must be a mapping (cpus, memory, gpus, time, partition, account), got " + node_kind(node));
    return r;
  }
  check_keys(node, path, {"cpus", "memory", "gpus", "tasks", "time", "partition", "account"}, "'resources'");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string key_path = path + "." + key;
    std::string text = kv.second.IsScalar() ? kv.second.Scalar() : "";
    if (!kv.second.IsScalar() || text.empty()) {
      error(kv.second, key_path, "resource '" + key + "' must be a value, got " + node_kind(kv.second));
      continue;
    }
    if (!substitute(kv.second, key_path, text)) continue;
    if (key == "cpus" || key == "gpus" || key == "tasks") {
      int n = 0;
      const bool digits = text.size() < 7 && text.find_first_not_of("0123456789") == std::string::npos;
      if (digits) n = std::stoi(text);
      if (!digits || (key != "gpus" && n < 1)) {
        error(kv.second, key_path,
              key + " must be a whole number" + (key != "gpus" ? " of at least 1" : "") + ", got '" + text + "'");
        continue;
      }
      (key == "cpus" ? r.cpus : key == "gpus" ? r.gpus : r.tasks) = n;
    } else if (key == "memory") {
      if (!std::regex_match(text, kMemory)) {
        error(kv.second, key_path, "memory must be a size such as 500M, 4G or 1T (Slurm's --mem), got '" + text + "'");
        continue;
      }
      r.memory = text;
    } else if (key == "time") {
      if (!std::regex_match(text, kTime)) {
        error(kv.second, key_path,
              "time must be minutes or [D-]HH:MM:SS such as 90, 01:30:00 or 1-00:00:00 (Slurm's --time), got '" + text +
                  "'");
        continue;
      }
      r.time = text;
    } else {
      if (!std::regex_match(text, kName)) {
        error(kv.second, key_path, key + " must be a name (letters, digits, _ . + -), got '" + text + "'");
        continue;
      }
      (key == "partition" ? r.partition : r.account) = text;
    }
  }
  return r;
}

}  // namespace loader
}  // namespace asaflow
