#include "asaflow/model/batches.hpp"
#include "asaflow/model/evaluation_batches.hpp"

#include <algorithm>

namespace asaflow::model {

Batch make_batch(const nlp::PreprocessedSplit& split, const std::vector<std::size_t>& indices, const BatchOptions& o,
                 const torch::Device& device) {
  const auto B = std::max(std::int64_t(indices.size()), o.min_rows);
  std::int64_t T = o.min_length;
  for (auto i : indices) T = std::max<std::int64_t>(T, std::int64_t(split.examples[i].size()));
  const std::int64_t pad_fill = o.faithful_padding ? 0 : o.pad_id;
  auto ids = torch::full({B, T}, pad_fill, torch::kInt64);
  auto pos = torch::full({B, T}, 16, torch::kInt64);  // X
  auto feat = torch::zeros({B, T}, torch::kInt32);
  auto req = torch::zeros({B, T}, torch::kInt32);
  auto valid = torch::zeros({B, T}, torch::kBool);
  auto ids_a = ids.accessor<std::int64_t, 2>();
  auto pos_a = pos.accessor<std::int64_t, 2>();
  auto feat_a = feat.accessor<std::int32_t, 2>();
  auto req_a = req.accessor<std::int32_t, 2>();
  auto valid_a = valid.accessor<bool, 2>();
  Batch b;
  for (std::int64_t r = 0; r < std::int64_t(indices.size()); ++r) {
    const auto& e = split.examples[indices[std::size_t(r)]];
    for (std::size_t t = 0; t < e.size(); ++t) {
      ids_a[r][std::int64_t(t)] = e.ids[t];
      pos_a[r][std::int64_t(t)] = e.pos[t];
      feat_a[r][std::int64_t(t)] = e.features[t];
      req_a[r][std::int64_t(t)] = e.requirements[t];
      valid_a[r][std::int64_t(t)] = true;
    }
    b.real_tokens += std::int64_t(e.size());
  }
  auto bits = torch::arange(15, torch::kInt32);  // feature f is bit f
  auto unpack = [&](const torch::Tensor& m) {
    return m.unsqueeze(-1).bitwise_right_shift(bits).bitwise_and(1).to(torch::kFloat32);
  };
  auto targets = ids.slice(1, 1).reshape({-1});  // [B*(T-1)]
  auto include = o.faithful_padding ? (targets != o.pad_id) : valid.slice(1, 1).reshape({-1});
  b.loss_targets = include.sum().item<std::int64_t>();
  b.ids = ids.to(device);
  b.tokens = TokenAnnotations{pos.to(device), unpack(feat).to(device), unpack(req).to(device)};
  b.key_valid = valid.to(device);
  b.targets = targets.to(device);
  b.include = include.to(torch::kFloat32).to(device);
  return b;
}

std::vector<std::vector<std::size_t>> evaluation_batches(std::size_t examples, std::int64_t batch_size,
                                                         std::int64_t eval_batches) {
  std::vector<std::vector<std::size_t>> out;
  const auto bs = std::size_t(batch_size);
  for (std::size_t s = 0; s < examples && (eval_batches <= 0 || std::int64_t(out.size()) < eval_batches); s += bs) {
    out.emplace_back();
    for (std::size_t i = s; i < std::min(s + bs, examples); ++i) out.back().push_back(i);
  }
  return out;
}

}  // namespace asaflow::model
