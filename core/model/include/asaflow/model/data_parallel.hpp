// Data-parallel training of one run over several processes with torch.distributed's C++
// core (c10d): each rank computes the gradients of its shard of every global batch, and
// the gradients are summed across ranks (all-reduce, in buckets) before the optimizer
// step, so every rank applies the same update and the weights stay identical. The
// rendezvous is a TCP store served by rank 0. Gloo carries the collectives (CPU tensors;
// Debian's LibTorch 1.13 ships c10d with Gloo and without NCCL).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace asaflow::model {

// Where a process stands in a data-parallel run.
struct RankInfo {
  int rank = 0;
  int world_size = 1;
  std::string host = "127.0.0.1";  // rank 0's address: the TCP store and the rendezvous
  int port = 0;
  bool parallel() const { return world_size > 1; }
};

class DataParallel {
 public:
  // Joins the group (rank 0 serves the store). Throws StageError naming the rendezvous
  // when the other ranks do not show up within `timeout`, and ConfigError when this build
  // has no c10d with Gloo.
  DataParallel(const RankInfo& info, std::chrono::seconds timeout);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return info_.rank; }
  int world_size() const { return info_.world_size; }
  // Sums each tensor across the ranks, in place. Tensors are flattened into buckets of
  // about `bucket_bytes` (one collective per bucket rather than one per parameter).
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors, std::int64_t bucket_bytes = 25 << 20);
  // Waits until every rank has called it.
  void barrier();
  // Whether this build can run data-parallel at all.
  static bool available();

 private:
  struct Group;
  RankInfo info_;
  std::unique_ptr<Group> group_;
};

// The rows of a global batch of `n` examples that rank `rank` of `world` computes: a
// contiguous slice, as even as possible ([begin, end)).
std::pair<std::int64_t, std::int64_t> shard_of(std::int64_t n, int rank, int world);

}  // namespace asaflow::model
