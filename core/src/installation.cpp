#include "asaflow/installation.hpp"

#include <dlfcn.h>

#include "asaflow/version.hpp"

namespace fs = std::filesystem;

namespace asaflow {

const fs::path& installation_prefix() {
  static const fs::path prefix = [] {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&installation_prefix), &info) == 0 || info.dli_fname == nullptr)
      return fs::path();
    std::error_code ec;
    const fs::path lib_dir = fs::weakly_canonical(info.dli_fname, ec).parent_path();
    // Installed: the library sits in <prefix>/lib next to share/asaflow (install() puts the
    // tables there); the build tree has no such directory.
    if (fs::is_directory(lib_dir.parent_path() / "share" / "asaflow", ec)) return lib_dir.parent_path();
    return fs::path();
  }();
  return prefix;
}

fs::path own_plugin_dir() {
  const fs::path& prefix = installation_prefix();
  return prefix.empty() ? fs::path(kBuildPluginDir) : prefix / "lib" / "asaflow" / "plugins";
}

fs::path shared_data_dir(const std::string& what, const fs::path& build_tree_dir) {
  const fs::path& prefix = installation_prefix();
  return prefix.empty() ? build_tree_dir : prefix / "share" / "asaflow" / what;
}

}  // namespace asaflow
