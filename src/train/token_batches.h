// Token-count batching for sequence-to-sequence training (fairseq's --max-tokens): examples sorted by
// length (longer side first, ties broken by a seeded random key so equal lengths mix differently each
// epoch), then cut greedily so that a batch's padded size — examples × its longest side — stays within
// max_tokens; the batch order is shuffled. Each batch holds at least one example, so an example longer
// than max_tokens still trains, alone. Without shuffling (evaluation) the order is by length only.
#pragma once

#include <cstdint>
#include <vector>

namespace lmaas::train {

struct PairLength {
  int32_t source = 0, target = 0;
};

std::vector<std::vector<int32_t>> make_token_batches(const std::vector<PairLength>& lengths, int64_t max_tokens,
                                                     uint64_t seed, int64_t epoch, bool shuffle);

}  // namespace lmaas::train
