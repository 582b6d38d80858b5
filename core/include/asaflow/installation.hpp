// Where this asaflow lives. In the build tree its plugins are in the build's plugins/ and
// its tables in the sources; an installed asaflow (cmake --install, any prefix, moved or
// not) finds them beside its own library: <prefix>/lib/asaflow/plugins and
// <prefix>/share/asaflow/. Nothing is baked in at a fixed prefix, so an installation can be
// relocated, and a build directory left on the machine is never read by an installed copy.
#pragma once

#include <filesystem>

#include "asaflow/export.hpp"

namespace asaflow {

// <prefix> of an installed asaflow (from the path of libasaflow_core.so), or empty when this
// is the build tree.
ASAFLOW_API const std::filesystem::path& installation_prefix();

// The plugin directory the host searches first: <prefix>/lib/asaflow/plugins, or the build's.
ASAFLOW_API std::filesystem::path own_plugin_dir();

// <prefix>/share/asaflow/<what> for an installed asaflow; `build_tree_dir` in the build tree.
ASAFLOW_API std::filesystem::path shared_data_dir(const std::string& what, const std::filesystem::path& build_tree_dir);

}  // namespace asaflow
