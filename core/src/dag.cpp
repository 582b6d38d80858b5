#include "asaflow/dag.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace asaflow {

std::vector<std::size_t> topological_order(const std::vector<std::vector<std::size_t>>& deps,
                                           std::vector<std::size_t>* cycle) {
  const std::size_t n = deps.size();
  std::vector<std::size_t> pending(n, 0);
  std::vector<std::vector<std::size_t>> users(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d : deps[i]) {
      ++pending[i];
      users[d].push_back(i);
    }
  }
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.insert(i);
  }
  std::vector<std::size_t> order;
  while (!ready.empty()) {
    std::size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (std::size_t u : users[next]) {
      if (--pending[u] == 0) ready.insert(u);
    }
  }
  if (order.size() == n) return order;

  // Walk dependencies from an unfinished node until one repeats: that is a cycle.
  if (cycle) {
    cycle->clear();
    std::vector<int> state(n, 0);  // 0 unvisited, 1 on stack, 2 done
    std::vector<std::size_t> stack;
    std::function<bool(std::size_t)> visit = [&](std::size_t v) -> bool {
      state[v] = 1;
      stack.push_back(v);
      for (std::size_t d : deps[v]) {
        if (state[d] == 1) {
          auto from = std::find(stack.begin(), stack.end(), d);
          cycle->assign(from, stack.end());
          cycle->push_back(d);
          return true;
        }
        if (state[d] == 0 && visit(d)) return true;
      }
      stack.pop_back();
      state[v] = 2;
      return false;
    };
    for (std::size_t i = 0; i < n && cycle->empty(); ++i) {
      if (pending[i] != 0 && state[i] == 0) visit(i);
    }
    // deps point backwards (node -> what it needs); report in execution direction.
    std::reverse(cycle->begin(), cycle->end());
  }
  return {};
}

std::vector<std::size_t> downstream_of(const std::vector<std::vector<std::size_t>>& deps, std::size_t node) {
  std::vector<bool> marked(deps.size(), false);
  marked[node] = true;
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t i = 0; i < deps.size(); ++i) {
      if (marked[i]) continue;
      for (std::size_t d : deps[i]) {
        if (marked[d]) {
          marked[i] = true;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < deps.size(); ++i) {
    if (marked[i] && i != node) out.push_back(i);
  }
  return out;
}

}  // namespace asaflow
