// What a comparison paired by seed says about its pairs beyond the numbers: on which
// machines its runs were computed, and whether each seed's two runs started from the same
// weights. Both come from the runs' records; split from evidence.cpp.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "evidence.hpp"

namespace asaflow::plugins::evidence {
namespace {

// Seeds in numeric order where both are numbers, else as text.
bool seed_order(const std::string& x, const std::string& y) {
  char* end_x = nullptr;
  char* end_y = nullptr;
  const double nx = std::strtod(x.c_str(), &end_x), ny = std::strtod(y.c_str(), &end_y);
  if (*end_x == 0 && *end_y == 0 && !x.empty() && !y.empty() && nx != ny) return nx < ny;
  return x < y;
}

// "seed 3" or "seeds 3, 4, 10", in seed order.
std::string seed_list(std::vector<std::string> seeds) {
  std::sort(seeds.begin(), seeds.end(), seed_order);
  std::string list;
  for (const auto& s : seeds) list += (list.empty() ? "" : ", ") + s;
  return (seeds.size() > 1 ? "seeds " : "seed ") + list;
}

}  // namespace

std::vector<std::string> machine_notes(const std::vector<const Run*>& a, const std::vector<const Run*>& b) {
  // machine -> arm -> seeds
  std::map<std::string, std::map<std::string, std::vector<std::string>>> where;
  for (const auto* list : {&a, &b})
    for (const Run* r : *list) where[r->machine][r->arm].push_back(r->seed);
  if (where.size() < 2) return {};
  std::string overview;
  for (auto& [machine, arms] : where) {
    std::string runs;
    for (auto& [arm, seeds] : arms) {
      runs += (runs.empty() ? "" : "; ") + arm + " " + seed_list(seeds);
    }
    overview +=
        (overview.empty() ? "" : " | ") + (machine.empty() ? std::string("not recorded") : machine) + ": " + runs;
  }
  std::vector<std::string> notes = {"These runs were computed on " + std::to_string(where.size()) +
                                    " machines (as each run's record says; one cache key can give different bits "
                                    "on another machine): " +
                                    overview + "."};
  std::map<std::string, const Run*> b_by_seed;
  for (const Run* r : b) b_by_seed[r->seed] = r;
  std::vector<std::string> split;
  for (const Run* r : a)
    if (auto it = b_by_seed.find(r->seed); it != b_by_seed.end() && it->second->machine != r->machine)
      split.push_back(r->seed);
  if (!split.empty()) {
    const bool many = split.size() > 1;
    notes.push_back("Anomaly: the two runs of " + seed_list(split) +
                    " ran on different machines: " + (many ? "their differences include" : "its difference includes") +
                    " the machines' effect, not only the arms'.");
  }
  return notes;
}

std::vector<std::string> initial_weights_notes(const std::vector<const Run*>& a, const std::vector<const Run*>& b) {
  // Only seeds with one run in each arm pair (a sweep's several runs of one seed do not).
  std::map<std::string, int> runs_a;
  for (const Run* r : a) ++runs_a[r->seed];
  std::map<std::string, std::vector<const Run*>> b_by_seed;
  for (const Run* r : b) b_by_seed[r->seed].push_back(r);
  std::vector<std::string> same, different, unrecorded;
  for (const Run* r : a) {
    auto it = b_by_seed.find(r->seed);
    if (it == b_by_seed.end() || it->second.size() != 1 || runs_a[r->seed] != 1) continue;
    const Run* other = it->second.front();
    if (r->initial_weights.empty() || other->initial_weights.empty())
      unrecorded.push_back(r->seed);
    else
      (r->initial_weights == other->initial_weights ? same : different).push_back(r->seed);
  }
  const std::size_t pairs = same.size() + different.size() + unrecorded.size();
  if (pairs == 0) return {};
  std::vector<std::string> notes;
  const std::string checked = std::to_string(same.size() + different.size());
  if (different.empty() && unrecorded.empty()) {
    notes.push_back("Initial weights checked: the two runs of " +
                    (pairs == 1 ? seed_list(same) : "each of the " + std::to_string(pairs) + " seeds") +
                    " started from the same weights (the SHA-256 of the parameters both arms have, in each run's "
                    "initial_weights record).");
  }
  if (!different.empty()) {
    const bool many = different.size() > 1;
    notes.push_back("Anomaly: the two runs of " + seed_list(different) + " did not start from the same weights " +
                    "(their initial_weights digests differ; " + std::to_string(same.size()) + " of the " + checked +
                    " pairs checked did): " + (many ? "their differences include" : "its difference includes") +
                    " the initial weights' effect, not only the arms', and the seed does not reproduce " +
                    (many ? "them" : "it") + ".");
  }
  if (!unrecorded.empty()) {
    notes.push_back("Initial weights not checked for " + seed_list(unrecorded) +
                    ": a run's record has no initial_weights digest (trained by an engine before 2026-12-03, which "
                    "could give two runs of one seed different weights when cells trained side by side in one "
                    "process).");
  }
  return notes;
}

}  // namespace asaflow::plugins::evidence
