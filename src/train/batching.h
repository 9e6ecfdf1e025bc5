// Minibatches for training and evaluation over an EncodedSet (texts kept as ids only).
//   make_batches: indices shuffled with (seed, epoch), then bucketed by length — each run of
//   kBucketBatches·batch_size examples is sorted by length and cut into batches — and the batch order
//   shuffled, so batches hold texts of similar length (little padding) yet every epoch differs.
//   Without shuffling (evaluation), all examples are sorted by length.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tensor/tensor.h"
#include "train/encoded_set.h"

namespace lmaas::train {

inline constexpr int64_t kBucketBatches = 50;

std::vector<std::vector<size_t>> make_batches(const EncodedSet& data, int64_t batch_size, uint64_t seed,
                                              int64_t epoch, bool shuffle);

struct BatchTensors {
  Tensor ids;     // [B, T] I32, right-padded with 0 to the longest text (at least 1 column)
  Tensor labels;  // [B] I32
};
BatchTensors to_tensors(const EncodedSet& data, const std::vector<size_t>& batch);
// The ids tensor for raw id lists (inference), right-padded with pad_id.
Tensor pad_batch(const std::vector<std::span<const int32_t>>& rows, int32_t pad_id = 0);

}  // namespace lmaas::train
