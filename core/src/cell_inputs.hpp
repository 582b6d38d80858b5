// Two pure pieces of the executor's work, kept apart from its scheduling: which cells
// --force names, and a committed upstream output as the InputArtifact a stage reads.
#pragma once

#include <string>
#include <vector>

#include "asaflow/artifact_store.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow {

// For each cell of `p`, whether `force` (cell ids or stage names) names it, or, with
// `downstream`, a cell it depends on. Throws ConfigError (did-you-mean) for a name that is
// neither.
std::vector<bool> forced_cells(const Pipeline& p, const std::vector<std::string>& force, bool downstream);

// The committed output of upstream cell `id` under `key`, checked against its manifest
// before any stage reads it: damage to a cached output is found here and not passed on
// into a new entry under a clean key (InputError), and a vanished one is a StageError.
InputArtifact committed_input(ArtifactStore& store, const std::string& id, const std::string& key);

}  // namespace asaflow
