// Which examples an evaluation reads (model::evaluate_split(), stage/test_ppl's target count).
// A header of its own: a plugin's library digest enters cache keys, and its debug
// information changes with every header it includes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace asaflow::model {

// The examples of each batch an evaluation reads, in order: runs of `batch_size` consecutive
// examples of a split of `examples`, the first `eval_batches` of them (0: all).
std::vector<std::vector<std::size_t>> evaluation_batches(std::size_t examples, std::int64_t batch_size,
                                                         std::int64_t eval_batches);

}  // namespace asaflow::model
