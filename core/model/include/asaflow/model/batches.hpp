// Batches of preprocessed examples as tensors, padded to the longest example. How padding
// enters the loss depends on the preset (spec 4.3-4.4): `faithful` pads ids with 0 and
// ignores only targets equal to the model's pad id 50256, so pad targets ARE counted, as
// the reference did; `corrected` ignores every padded target.
#pragma once

#include <torch/types.h>

#include <vector>

#include "asaflow/model/attention_bias.hpp"
#include "asaflow/nlp/preprocessed.hpp"

namespace asaflow::model {

struct Batch {
  torch::Tensor ids;              // [B,T] int64
  TokenAnnotations tokens;        // pos [B,T], features / requirements [B,T,15]
  torch::Tensor key_valid;        // [B,T] bool, true on real tokens
  torch::Tensor targets;          // [B*(T-1)] int64: ids shifted by one
  torch::Tensor include;          // [B*(T-1)] float: 1 where the target counts in the loss
  std::int64_t real_tokens = 0;   // non-pad tokens in ids
  std::int64_t loss_targets = 0;  // targets counted in the loss
};

struct BatchOptions {
  bool faithful_padding = false;  // see above
  std::int64_t pad_id = 50256;    // the model's pad id (ignore_index in faithful mode)
  // Fixed shapes for a static (CUDA-graph) step: at least this many rows (the extra rows
  // are all padding) and at least this many positions. 0: as the examples need.
  std::int64_t min_rows = 0;
  std::int64_t min_length = 0;
};

Batch make_batch(const nlp::PreprocessedSplit& split, const std::vector<std::size_t>& indices,
                 const BatchOptions& options, const torch::Device& device);

}  // namespace asaflow::model
