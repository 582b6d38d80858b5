// Dependency graphs: a stable topological order (declaration order among ready nodes) and,
// when there is none, one cycle to name in the error.
#pragma once

#include <cstddef>
#include <vector>

#include "asaflow/export.hpp"

namespace asaflow {

// deps[i] lists the nodes i depends on. Returns the order, or an empty vector and fills
// `cycle` (node indices, first repeated at the end) when the graph has a cycle.
ASAFLOW_API std::vector<std::size_t> topological_order(const std::vector<std::vector<std::size_t>>& deps,
                                                       std::vector<std::size_t>* cycle);

// Every node that depends on `node`, directly or not.
ASAFLOW_API std::vector<std::size_t> downstream_of(const std::vector<std::vector<std::size_t>>& deps, std::size_t node);

}  // namespace asaflow
