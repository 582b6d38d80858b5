// Publishing: a stage's outputs at a path of the user's choosing in the workspace (DVC's
// `outs`, Snakemake's output paths), while the store stays the single source of truth.
//
//   train: {uses: train, needs: [prep], matrix: {seed: [1, 2]}, publish: results/train}
//
// After every run (computed or cached) the directory holds the cell's files, as copies
// (default: editing them cannot damage the store) or symbolic links into the store
// (`publish: {to: DIR, mode: symlink}`: no second copy of a large model, but gc can leave
// them dangling unless the results are pinned), its log as stage.log and a marker,
// .asaflow-published, naming the cell and key. A matrix stage gets one subdirectory per
// cell, named by its values ("seed=1"). A directory is replaced whole, and only when it
// carries the marker: asaflow never overwrites a directory it did not publish.
#pragma once

#include <filesystem>
#include <string>

#include "asaflow/export.hpp"
#include "asaflow/pipeline.hpp"

namespace asaflow {

struct ASAFLOW_API PublishRequest {
  std::string cell_id;
  std::string key;
  std::filesystem::path out_dir;   // the entry's out/
  std::filesystem::path log_file;  // the entry's stage.log (may be missing)
  std::filesystem::path target;    // the workspace directory
  std::string mode = "copy";       // copy | symlink
};

// Where a cell of `stage` is published: the stage's directory, or for a matrix stage its
// subdirectory named by the cell's values. Empty when the stage does not publish.
ASAFLOW_API std::filesystem::path publish_target(const StageSpec& stage, const StageCell& cell);

// Makes `request.target` hold the entry's files. Returns false when it already did (same
// key and mode, every file present with its size): nothing is rewritten. Throws
// InputError when the target exists and was not published by asaflow, StageError when a
// file cannot be written; the previous publication then stays as it was.
ASAFLOW_API bool publish(const PublishRequest& request);

// "file:///abs/path" with the characters a URL may not hold percent-encoded: reports are
// printed this way so that a terminal makes them clickable.
ASAFLOW_API std::string file_url(const std::filesystem::path& path);

}  // namespace asaflow
