// The binary boundary between the host and a plugin library, modelled on LLVM pass plugins.
// A library exports exactly one C-linkage function, asaflow_plugin_entry, returning a plain
// descriptor whose first field is the API version. The host reads the version and the
// build fingerprint before any C++ object crosses the boundary, and only then calls
// register_components. One library may register several components.
//
// A plugin's entry.cpp is one line:  ASAFLOW_PLUGIN("my_plugin", "1.0.0", register_fn)
#pragma once

#include <cstdint>

#include "asaflow/component.hpp"
#include "asaflow/version.hpp"

// The version of everything a plugin and the host share in memory: the descriptor below and
// the types in component.hpp, params.hpp, stage_context.hpp, results.hpp and progress.hpp.
// Bump it with any change a plugin built earlier could misread: a field added, removed or
// reordered, a virtual function added or changed, a type's size. Adding a free function or
// a non-virtual member needs no bump. Version 2: ComponentInfo's split declarations, StageContext::live_dir.
// Version 3: StageContext split into StageInputs (read-only) and StageOutputs.
#define ASAFLOW_PLUGIN_API_VERSION 3u
#define ASAFLOW_PLUGIN_ENTRY_SYMBOL "asaflow_plugin_entry"

#define ASAFLOW_STR_(x) #x
#define ASAFLOW_STR(x) ASAFLOW_STR_(x)
// Defined (as the LibTorch version) only for code that links LibTorch: asaflow's model
// library exports it to the plugins that link it; anything else says "none".
#ifndef ASAFLOW_TORCH_VERSION
#define ASAFLOW_TORCH_VERSION "none"
#endif
// Compiler, C++ ABI, asaflow version and LibTorch version: a plugin built with any other
// combination could crash the host, so it is refused with a message naming both
// fingerprints. A plugin that does not link LibTorch ("torch=none") fits any host.
#define ASAFLOW_BUILD_FINGERPRINT                                                        \
  "gcc-" ASAFLOW_STR(__GNUC__) "." ASAFLOW_STR(__GNUC_MINOR__) ";cxx11abi=" ASAFLOW_STR( \
      _GLIBCXX_USE_CXX11_ABI) ";asaflow=" ASAFLOW_VERSION_STRING ";torch=" ASAFLOW_TORCH_VERSION

extern "C" {
struct AsaflowPluginDescriptor {
  std::uint32_t api_version;  // must stay the first field, in every future version
  const char* build_fingerprint;
  const char* plugin_name;
  const char* plugin_version;
  void (*register_components)(asaflow::Registrar& registrar);
};
typedef const AsaflowPluginDescriptor* (*AsaflowPluginEntryFn)();
}

#define ASAFLOW_PLUGIN(name, version, register_fn)                                                               \
  extern "C" __attribute__((visibility("default"))) const AsaflowPluginDescriptor* asaflow_plugin_entry() {      \
    static const AsaflowPluginDescriptor descriptor{ASAFLOW_PLUGIN_API_VERSION, ASAFLOW_BUILD_FINGERPRINT, name, \
                                                    version, register_fn};                                       \
    return &descriptor;                                                                                          \
  }
