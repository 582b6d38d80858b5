// Finds, checks and loads plugin libraries, and is the registry of their components.
//
// Libraries (*.so) are searched in order: its own plugin dir (the build's, or beside an
// installed asaflow's library: installation.hpp),
// ASAFLOW_PLUGIN_PATH (colon-separated), then --plugin-dir. Loading a LibTorch plugin costs
// ~0.5 s, so the host keeps an index (path, size, mtime -> descriptor and component schemas)
// and loads a library only when one of its components is instantiated. Every load checks
// the API version and build fingerprint before any C++ object crosses the boundary;
// libraries stay loaded until the process exits.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API ComponentEntry {
  ComponentInfo info;
  std::string library;  // absolute path, or "static:<plugin>" for components linked in
  std::string plugin_name;
  std::string plugin_version;
  std::string library_digest;  // sha256 of the library file; enters cache keys
  // The component declares split rules (ComponentInfo::produces_splits / reads_splits):
  // code, which an entry read from the index lacks until its library is loaded.
  bool declares_splits = false;
};

class ASAFLOW_API PluginHost {
 public:
  // `index_file` may be empty: then nothing is remembered between processes.
  explicit PluginHost(std::filesystem::path index_file = {});
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // The default search path: its own plugin dir, ASAFLOW_PLUGIN_PATH, then `extra`.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::filesystem::path>& extra);

  // Indexes every *.so in `dirs` (missing dirs are skipped). A library that fails to load
  // or check is skipped with a warning and listed in refused(); require() names them when
  // a component is not found. Throws PluginError when two libraries register one component.
  void discover(const std::vector<std::filesystem::path>& dirs);
  // The skipped libraries: (path, why).
  const std::vector<std::pair<std::string, std::string>>& refused() const { return refused_; }
  // Loads and checks one library now and registers its components. Throws PluginError.
  void load_library(const std::filesystem::path& library);
  // Registers components linked into this binary (tests, tools).
  void add_static(const std::string& plugin_name, const std::string& plugin_version,
                  void (*register_components)(Registrar&));

  const ComponentEntry* find(const std::string& kind, const std::string& name) const;
  // Throws ConfigError: "unknown metric 'x' (did you mean 'y'?); available metrics: ...", or
  // PluginError naming the skipped libraries when some were (one of them may provide it).
  const ComponentEntry& require(const std::string& kind, const std::string& name) const;
  std::vector<std::string> names_of_kind(const std::string& kind) const;
  std::vector<std::string> kinds() const;
  std::vector<const ComponentEntry*> entries() const;

  // The live component, loading its library on first use. Throws PluginError.
  std::shared_ptr<Component> instantiate(const ComponentEntry& entry);

 private:
  struct LoadedLibrary;
  void register_entries(const std::string& library, const std::string& digest, const std::string& plugin_name,
                        const std::string& plugin_version, const std::vector<std::shared_ptr<Component>>& components);
  void save_index() const;
  void load_index();

  std::string refused_text() const;

  std::filesystem::path index_file_;
  std::vector<std::pair<std::string, std::string>> refused_;
  std::map<std::string, ComponentEntry> entries_;           // "kind/name"
  std::map<std::string, std::shared_ptr<Component>> live_;  // "kind/name"
  struct IndexRecord;
  std::map<std::string, std::shared_ptr<IndexRecord>> index_;  // library path
  bool index_dirty_ = false;
};

// The fingerprint this asaflow was built with; plugins must match it exactly.
ASAFLOW_API const char* host_build_fingerprint();
// Whether a plugin built with fingerprint `plugin` may be loaded by a host with `host`: the
// same, or the same but "torch=none" (a plugin that does not link LibTorch).
ASAFLOW_API bool fingerprint_fits(const std::string& plugin, const std::string& host);

}  // namespace asaflow
