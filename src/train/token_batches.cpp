#include "train/token_batches.h"

#include <algorithm>
#include <numeric>

#include "base/rng.h"

namespace lmaas::train {

std::vector<std::vector<int32_t>> make_token_batches(const std::vector<PairLength>& lengths, int64_t max_tokens,
                                                     uint64_t seed, int64_t epoch, bool shuffle) {
  const auto longest = [&](int32_t i) { return std::max(lengths[i].source, lengths[i].target); };
  std::vector<int32_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<uint64_t> tie(lengths.size(), 0);
  if (shuffle)
    for (size_t i = 0; i < tie.size(); ++i) tie[i] = mix64(seed ^ mix64(static_cast<uint64_t>(epoch) * 0x9e37 + i));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (longest(a) != longest(b)) return longest(a) < longest(b);
    if (lengths[a].target != lengths[b].target) return lengths[a].target < lengths[b].target;
    return tie[a] != tie[b] ? tie[a] < tie[b] : a < b;
  });
  std::vector<std::vector<int32_t>> batches;
  std::vector<int32_t> current;
  int64_t current_longest = 0;
  for (int32_t i : order) {
    const int64_t grown = std::max<int64_t>(current_longest, longest(i));
    if (!current.empty() && grown * static_cast<int64_t>(current.size() + 1) > max_tokens) {
      batches.push_back(std::move(current));
      current.clear();
      current_longest = 0;
    }
    current.push_back(i);
    current_longest = std::max<int64_t>(current_longest, longest(i));
  }
  if (!current.empty()) batches.push_back(std::move(current));
  if (shuffle) {
    Rng rng(mix64(seed * 31 + static_cast<uint64_t>(epoch)));
    lmaas::shuffle(batches, rng);
  }
  return batches;
}

}  // namespace lmaas::train
