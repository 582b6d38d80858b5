// Visibility macro for the types that cross the host/plugin boundary. Plugins are built
// with hidden visibility, so every core class a plugin uses is marked ASAFLOW_API to keep
// one typeinfo and one vtable across all loaded libraries.
#pragma once

#define ASAFLOW_API __attribute__((visibility("default")))
