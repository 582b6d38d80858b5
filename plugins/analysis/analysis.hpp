// The analyses that turn trained models into evidence: H6 attention/mask overlap with
// random controls (spec 5), sparsity of the bonding masks (spec 6), and step profiling
// (spec 7.2).
#pragma once

#include <memory>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

std::shared_ptr<Component> make_h6();
std::shared_ptr<Component> make_sparsity();
std::shared_ptr<Component> make_profile();

inline void register_analysis(Registrar& registrar) {
  registrar.add(make_h6());
  registrar.add(make_sparsity());
  registrar.add(make_profile());
}

}  // namespace asaflow::plugins
