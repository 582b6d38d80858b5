#include "asaflow/model/data_parallel.hpp"

#include "asaflow/error.hpp"

#ifdef ASAFLOW_WITH_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace asaflow::model {

std::pair<std::int64_t, std::int64_t> shard_of(std::int64_t n, int rank, int world) {
  return {n * rank / world, n * (rank + 1) / world};
}

#ifdef ASAFLOW_WITH_C10D

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

DataParallel::DataParallel(const RankInfo& info, std::chrono::seconds timeout)
    : info_(info), group_(std::make_unique<Group>()) {
  if (info.world_size < 1 || info.rank < 0 || info.rank >= info.world_size) {
    throw ConfigError("rank " + std::to_string(info.rank) + " of world size " + std::to_string(info.world_size) +
                      " is not a place in a group");
  }
  const std::string where = info.host + ":" + std::to_string(info.port);
  try {
    c10d::TCPStoreOptions o;
    o.port = std::uint16_t(info.port);
    o.isServer = info.rank == 0;
    o.numWorkers = info.world_size;
    o.waitWorkers = true;
    // Every rank must show up within the rendezvous timeout; the collectives themselves
    // wait up to `timeout` (rank 0 evaluates while the others wait in the next one).
    o.timeout = std::min(timeout, std::chrono::seconds(120));
    group_->store = c10::make_intrusive<c10d::TCPStore>(info.host, o);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Rank 0's side of the transport binds where the others reach it; every rank on one
    // machine talks over loopback, otherwise over the interface of its own hostname.
    options->devices.push_back(info.host == "127.0.0.1" || info.host == "localhost"
                                   ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
    group_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, info.rank, info.world_size, options);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw StageError("rank " + std::to_string(info.rank) + " of " + std::to_string(info.world_size) +
                     " could not join the group at " + where + ": " + what.substr(0, what.find('\n')));
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::all_reduce_sum(const std::vector<torch::Tensor>& tensors, std::int64_t bucket_bytes) {
  if (info_.world_size == 1 || tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: consecutive tensors of one dtype up to bucket_bytes, flattened into one.
    std::vector<torch::Tensor> bucket;
    std::int64_t bytes = 0;
    const auto dtype = tensors[i].scalar_type();
    while (i < tensors.size() && tensors[i].scalar_type() == dtype && (bucket.empty() || bytes < bucket_bytes)) {
      bytes += tensors[i].numel() * std::int64_t(tensors[i].element_size());
      bucket.push_back(tensors[i++]);
    }
    std::vector<torch::Tensor> flat;
    for (const auto& t : bucket) flat.push_back(t.reshape({-1}));
    std::vector<at::Tensor> buffer = {torch::cat(flat)};
    group_->pg->allreduce(buffer)->wait();
    std::int64_t offset = 0;
    for (auto& t : bucket) {
      t.copy_(buffer[0].slice(0, offset, offset + t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

void DataParallel::barrier() {
  if (info_.world_size > 1) group_->pg->barrier()->wait();
}

bool DataParallel::available() { return true; }

#else

struct DataParallel::Group {};

DataParallel::DataParallel(const RankInfo& info, std::chrono::seconds) : info_(info) {
  if (info.world_size > 1) {
    throw ConfigError("world_size " + std::to_string(info.world_size) +
                      " needs torch.distributed (c10d with Gloo), which this build lacks: install libgloo-dev and "
                      "rebuild against a LibTorch that ships c10d");
  }
}
DataParallel::~DataParallel() = default;
void DataParallel::all_reduce_sum(const std::vector<torch::Tensor>&, std::int64_t) {}
void DataParallel::barrier() {}
bool DataParallel::available() { return false; }

#endif

}  // namespace asaflow::model
