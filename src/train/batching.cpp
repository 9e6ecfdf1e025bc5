#include "train/batching.h"

#include <algorithm>
#include <numeric>

#include "base/rng.h"

namespace lmaas::train {

std::vector<std::vector<size_t>> make_batches(const EncodedSet& data, int64_t batch_size, uint64_t seed,
                                              int64_t epoch, bool shuffle_data) {
  std::vector<size_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  Rng rng(mix64(seed ^ mix64(static_cast<uint64_t>(epoch) + 0x9e37)));
  const size_t bucket = shuffle_data ? static_cast<size_t>(kBucketBatches * batch_size) : order.size();
  if (shuffle_data) shuffle(order, rng);
  auto by_length = [&](size_t a, size_t b) { return data.length(a) < data.length(b); };
  for (size_t start = 0; start < order.size(); start += std::max<size_t>(bucket, 1)) {
    auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + bucket));
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end, by_length);
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size))
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch_size)));
  if (shuffle_data) shuffle(batches, rng);
  return batches;
}

Tensor pad_batch(const std::vector<std::span<const int32_t>>& rows, int32_t pad_id) {
  size_t longest = 1;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  Tensor ids = Tensor::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(longest)}, pad_id, DType::kI32);
  int32_t* p = ids.data<int32_t>();
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), p + i * longest);
  return ids;
}

BatchTensors to_tensors(const EncodedSet& data, const std::vector<size_t>& batch) {
  std::vector<std::span<const int32_t>> rows;
  std::vector<int32_t> labels;
  for (size_t i : batch) {
    rows.push_back(data.ids(i));
    labels.push_back(data.label(i));
  }
  return {pad_batch(rows), Tensor::from_vector(labels, {static_cast<int64_t>(labels.size())})};
}

}  // namespace lmaas::train
