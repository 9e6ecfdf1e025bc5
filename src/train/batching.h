// Minibatches for training and evaluation. Texts are kept encoded (ids only) in memory.
//   make_batches: indices shuffled with (seed, epoch), then bucketed by length — each run of
//   kBucketBatches·batch_size examples is sorted by length and cut into batches — and the batch order
//   shuffled, so batches hold texts of similar length (little padding) yet every epoch differs.
//   Without shuffling (evaluation), all examples are sorted by length.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace lmaas::train {

struct EncodedExample {
  std::vector<int32_t> ids;
  int32_t label = 0;
};

inline constexpr int64_t kBucketBatches = 50;

std::vector<std::vector<size_t>> make_batches(const std::vector<EncodedExample>& data, int64_t batch_size,
                                              uint64_t seed, int64_t epoch, bool shuffle);

struct BatchTensors {
  Tensor ids;     // [B, T] I32, right-padded with 0 to the longest text (at least 1 column)
  Tensor labels;  // [B] I32
};
BatchTensors to_tensors(const std::vector<EncodedExample>& data, const std::vector<size_t>& batch);
// The same for raw id lists (inference).
Tensor pad_batch(const std::vector<const std::vector<int32_t>*>& rows);

}  // namespace lmaas::train
