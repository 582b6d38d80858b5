#include "asaflow/plugin_host.hpp"

#define BOOST_DLL_USE_STD_FS
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/installation.hpp"
#include "asaflow/logging.hpp"
#include "asaflow/plugin_api.hpp"
#include "asaflow/text_util.hpp"
#include "asaflow/version.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow {

const char* host_build_fingerprint() { return ASAFLOW_BUILD_FINGERPRINT; }

bool fingerprint_fits(const std::string& plugin, const std::string& host) {
  if (plugin == host) return true;
  // Equal but for the LibTorch part, which the plugin does not have ("torch=none").
  const std::string none = ";torch=none";
  const auto at = host.rfind(";torch=");
  return plugin.size() >= none.size() && plugin.compare(plugin.size() - none.size(), none.size(), none) == 0 &&
         at != std::string::npos && plugin.substr(0, plugin.size() - none.size()) == host.substr(0, at);
}

namespace {

// Libraries are never unloaded: components, loggers and vtables from them may live until
// exit, so the handles are deliberately leaked.
std::vector<boost::dll::shared_library>& loaded_libraries() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}
std::mutex& load_mutex() {
  static auto* m = new std::mutex();
  return *m;
}

class CollectingRegistrar : public Registrar {
 public:
  void add(std::shared_ptr<Component> component) override { components.push_back(std::move(component)); }
  std::vector<std::shared_ptr<Component>> components;
};

std::string plural(const std::string& kind) { return kind.empty() || kind.back() == 's' ? kind : kind + "s"; }

// The index remembers size and mtime (what it has always stored): a library rebuilt in
// place changes both.
bool same_library_file(const FileStamp& remembered, const FileStamp& now) {
  return remembered.size == now.size && remembered.mtime_ns == now.mtime_ns;
}

ParamValue param_value_from_json(const json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_array()) return j.get<std::vector<std::string>>();
  return j.get<std::string>();
}

json info_to_json(const ComponentInfo& info) {
  json params = json::array();
  for (const auto& p : info.params) {
    json jp = {{"name", p.name},
               {"type", int(p.type)},
               {"choices", p.choices},
               {"help", p.help},
               {"component_kind", p.component_kind}};
    jp["default"] = p.default_value ? param_to_json(*p.default_value) : json(nullptr);
    jp["min"] = p.min ? json(*p.min) : json(nullptr);
    jp["max"] = p.max ? json(*p.max) : json(nullptr);
    params.push_back(std::move(jp));
  }
  return {{"kind", info.kind},
          {"name", info.name},
          {"version", info.version},
          {"summary", info.summary},
          {"device_dependent", info.device_dependent},
          {"accepts_failed_inputs", info.accepts_failed_inputs},
          {"split_rules", bool(info.produces_splits || info.reads_splits)},  // code: the library has them
          {"params", params}};
}

ComponentInfo info_from_json(const json& j) {
  ComponentInfo info;
  info.kind = j.at("kind");
  info.name = j.at("name");
  info.version = j.at("version");
  info.summary = j.at("summary");
  info.device_dependent = j.at("device_dependent");
  info.accepts_failed_inputs = j.value("accepts_failed_inputs", false);
  for (const auto& jp : j.at("params")) {
    ParamSpec p;
    p.name = jp.at("name");
    p.type = ParamType(jp.at("type").get<int>());
    p.choices = jp.at("choices").get<std::vector<std::string>>();
    p.help = jp.at("help");
    p.component_kind = jp.value("component_kind", "");
    if (!jp.at("default").is_null()) p.default_value = param_value_from_json(jp.at("default"));
    if (!jp.at("min").is_null()) p.min = jp.at("min").get<double>();
    if (!jp.at("max").is_null()) p.max = jp.at("max").get<double>();
    info.params.push_back(std::move(p));
  }
  return info;
}

}  // namespace

struct PluginHost::IndexRecord {
  FileStamp stamp;
  std::string digest;
  std::string plugin_name;
  std::string plugin_version;
  std::vector<ComponentInfo> components;
  std::set<std::string> with_split_rules;  // components whose split rules need the library
};

PluginHost::PluginHost(fs::path index_file) : index_file_(std::move(index_file)) { load_index(); }

PluginHost::~PluginHost() {
  try {
    if (index_dirty_) save_index();
  } catch (...) {
    // The index is only a speed-up; losing it is harmless.
  }
}

std::vector<fs::path> PluginHost::search_path(const std::vector<fs::path>& extra) {
  std::vector<fs::path> dirs{own_plugin_dir()};
  if (const char* env = std::getenv("ASAFLOW_PLUGIN_PATH")) {
    std::string s = env;
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) dirs.emplace_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  dirs.insert(dirs.end(), extra.begin(), extra.end());
  return dirs;
}

void PluginHost::load_index() {
  if (index_file_.empty()) return;
  std::ifstream in(index_file_);
  if (!in) return;
  try {
    json j = json::parse(in);
    if (j.value("fingerprint", "") != host_build_fingerprint()) return;
    for (const auto& [path, rec] : j.at("libraries").items()) {
      auto r = std::make_shared<IndexRecord>();
      r->stamp.size = rec.at("size");
      r->stamp.mtime_ns = rec.at("mtime_ns");
      r->digest = rec.at("digest");
      r->plugin_name = rec.at("plugin");
      r->plugin_version = rec.at("plugin_version");
      for (const auto& c : rec.at("components")) {
        r->components.push_back(info_from_json(c));
        if (c.value("split_rules", false)) r->with_split_rules.insert(r->components.back().qualified_name());
      }
      index_[path] = std::move(r);
    }
  } catch (const json::exception&) {
    index_.clear();  // a corrupt index is rebuilt from the libraries themselves
  }
}

void PluginHost::save_index() const {
  if (index_file_.empty()) return;
  json libs = json::object();
  for (const auto& [path, r] : index_) {
    json comps = json::array();
    for (const auto& c : r->components) comps.push_back(info_to_json(c));
    libs[path] = {{"size", r->stamp.size},    {"mtime_ns", r->stamp.mtime_ns},       {"digest", r->digest},
                  {"plugin", r->plugin_name}, {"plugin_version", r->plugin_version}, {"components", comps}};
  }
  std::error_code ec;
  fs::create_directories(index_file_.parent_path(), ec);
  try {  // only a speed-up: a store that cannot be written is read from the libraries again
    write_file_atomically(index_file_, json{{"fingerprint", host_build_fingerprint()}, {"libraries", libs}}.dump());
  } catch (const Error&) {
  }
}

void PluginHost::discover(const std::vector<fs::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> libs;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".so") libs.push_back(fs::absolute(e.path()));
    }
    std::sort(libs.begin(), libs.end());
    for (const auto& lib : libs) {
      auto it = index_.find(lib.string());
      if (it != index_.end() && same_library_file(it->second->stamp, file_stamp(lib))) {
        const IndexRecord& r = *it->second;
        for (const auto& info : r.components) {
          std::string key = info.qualified_name();
          auto existing = entries_.find(key);
          if (existing != entries_.end() && existing->second.library != lib.string()) {
            throw PluginError("component " + key + " is registered by both '" + existing->second.library + "' and '" +
                              lib.string() + "': remove one of them from the plugin path");
          }
          entries_[key] = ComponentEntry{
              info, lib.string(), r.plugin_name, r.plugin_version, r.digest, r.with_split_rules.count(key) > 0};
        }
        continue;
      }
      // A library that cannot be loaded or fails its checks is skipped with a warning: one
      // stale plugin must not stop every command. A pipeline that names a component no
      // library provides then hears of the skipped ones (require()). Two libraries
      // registering one component stay an error: which one would run is not knowable.
      try {
        load_library(lib);
      } catch (const PluginError& e) {
        if (std::string(e.what()).find(" is registered by both ") != std::string::npos) throw;
        refused_.push_back({lib.string(), e.what()});
        named_logger("asaflow")->warn("skipped a plugin library: {}", e.what());
      }
    }
  }
}

void PluginHost::load_library(const fs::path& library) {
  const std::string path = fs::absolute(library).string();
  std::lock_guard<std::mutex> guard(load_mutex());
  boost::dll::shared_library lib;
  try {
    lib.load(path, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    std::string reason = e.what();
    const std::string marker = "dlerror system message: ";
    auto at = reason.find(marker);
    if (at != std::string::npos) {
      reason = reason.substr(at + marker.size());
      auto close = reason.rfind("): ");
      if (close != std::string::npos)
        reason = reason.substr(0, close);
      else if (!reason.empty() && reason.back() == ')')
        reason.pop_back();
    }
    if (reason.rfind(path + ": ", 0) == 0) reason = reason.substr(path.size() + 2);
    throw PluginError("cannot load plugin library '" + path + "': " + reason);
  }
  if (!lib.has(ASAFLOW_PLUGIN_ENTRY_SYMBOL)) {
    throw PluginError("'" + path + "' is not an asaflow plugin: it does not export '" + ASAFLOW_PLUGIN_ENTRY_SYMBOL +
                      "' (add ASAFLOW_PLUGIN(name, version, register_fn) to one of its sources)");
  }
  auto entry = lib.get<const AsaflowPluginDescriptor*()>(ASAFLOW_PLUGIN_ENTRY_SYMBOL);
  const AsaflowPluginDescriptor* d = entry();
  if (d == nullptr) {
    throw PluginError("plugin library '" + path + "' returned no descriptor from " + ASAFLOW_PLUGIN_ENTRY_SYMBOL);
  }
  // Only the first field is read before the version is known to match.
  if (d->api_version != ASAFLOW_PLUGIN_API_VERSION) {
    throw PluginError("plugin library '" + path + "' was built for plugin API version " +
                      std::to_string(d->api_version) + ", but this asaflow " + kVersion + " uses version " +
                      std::to_string(ASAFLOW_PLUGIN_API_VERSION) +
                      ": rebuild the plugin against this asaflow's headers");
  }
  if (!fingerprint_fits(d->build_fingerprint, host_build_fingerprint())) {
    throw PluginError("plugin library '" + path + "' was built with '" + d->build_fingerprint +
                      "' but this asaflow with '" + host_build_fingerprint() +
                      "': rebuild the plugin with the same compiler and LibTorch");
  }
  CollectingRegistrar registrar;
  d->register_components(registrar);
  std::string digest = sha256_file(path);

  auto record = std::make_shared<IndexRecord>();
  record->stamp = file_stamp(path);
  record->digest = digest;
  record->plugin_name = d->plugin_name;
  record->plugin_version = d->plugin_version;
  for (const auto& c : registrar.components) record->components.push_back(c->info());
  index_[path] = record;
  index_dirty_ = true;

  register_entries(path, digest, d->plugin_name, d->plugin_version, registrar.components);
  loaded_libraries().push_back(std::move(lib));
}

void PluginHost::add_static(const std::string& plugin_name, const std::string& plugin_version,
                            void (*register_components)(Registrar&)) {
  CollectingRegistrar registrar;
  register_components(registrar);
  register_entries("static:" + plugin_name, "static:" + plugin_name + "@" + plugin_version, plugin_name, plugin_version,
                   registrar.components);
}

void PluginHost::register_entries(const std::string& library, const std::string& digest, const std::string& plugin_name,
                                  const std::string& plugin_version,
                                  const std::vector<std::shared_ptr<Component>>& components) {
  for (const auto& c : components) {
    std::string key = c->info().qualified_name();
    auto existing = entries_.find(key);
    if (existing != entries_.end() && existing->second.library != library) {
      throw PluginError("component " + key + " is registered by both '" + existing->second.library + "' and '" +
                        library + "': remove one of them from the plugin path");
    }
    entries_[key] = ComponentEntry{c->info(),      library, plugin_name,
                                   plugin_version, digest,  bool(c->info().produces_splits || c->info().reads_splits)};
    live_[key] = c;
  }
}

const ComponentEntry* PluginHost::find(const std::string& kind, const std::string& name) const {
  auto it = entries_.find(kind + "/" + name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> PluginHost::names_of_kind(const std::string& kind) const {
  std::vector<std::string> names;
  for (const auto& [key, e] : entries_) {
    if (e.info.kind == kind) names.push_back(e.info.name);
  }
  return names;
}

std::vector<std::string> PluginHost::kinds() const {
  std::vector<std::string> kinds;
  for (const auto& [key, e] : entries_) {
    if (std::find(kinds.begin(), kinds.end(), e.info.kind) == kinds.end()) kinds.push_back(e.info.kind);
  }
  return kinds;
}

std::vector<const ComponentEntry*> PluginHost::entries() const {
  std::vector<const ComponentEntry*> out;
  for (const auto& [key, e] : entries_) out.push_back(&e);
  return out;
}

const ComponentEntry& PluginHost::require(const std::string& kind, const std::string& name) const {
  if (const ComponentEntry* e = find(kind, name)) return *e;
  std::vector<std::string> names = names_of_kind(kind);
  if (names.empty()) {
    std::vector<std::string> known = kinds();
    std::string msg = "unknown component kind '" + kind + "'";
    msg += suggestion(kind, known);
    if (!refused_.empty()) throw PluginError(msg + refused_text());
    msg += "; known kinds: " + (known.empty() ? std::string("none (no plugins found)") : join(known, ", "));
    throw ConfigError(msg);
  }
  std::string msg = "unknown " + kind + " '" + name + "'";
  msg += suggestion(name, names);
  if (!refused_.empty()) throw PluginError(msg + refused_text());
  msg += "; available " + plural(kind) + ": " + join(names, ", ");
  throw ConfigError(msg);
}

std::string PluginHost::refused_text() const {
  std::string text = refused_.size() == 1 ? "; a skipped plugin library may provide it: "
                                          : "; skipped plugin libraries may provide it: ";
  for (std::size_t i = 0; i < refused_.size(); ++i) text += (i ? "; " : "") + refused_[i].second;
  return text;
}

std::shared_ptr<Component> PluginHost::instantiate(const ComponentEntry& entry) {
  std::string key = entry.info.qualified_name();
  auto it = live_.find(key);
  if (it != live_.end()) return it->second;
  load_library(entry.library);
  it = live_.find(key);
  if (it == live_.end()) {
    throw PluginError("plugin library '" + entry.library + "' no longer provides " + key +
                      ": rebuild it or remove it from the plugin path");
  }
  return it->second;
}

}  // namespace asaflow
