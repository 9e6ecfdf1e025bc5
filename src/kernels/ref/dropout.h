// Inverted dropout's mask, counter-based: element j of block k (kDropoutBlock elements each) draws
// dropout_draw(mix64(key + k), j), so blocks can run in any order on any thread and the mask depends
// only on `key`. The draw is murmur3's 32-bit finaliser of j, keyed: a bijection of j, so no two
// elements of a block share a draw, in plain 32-bit arithmetic that vectorises. An element is kept
// when its draw >= threshold (= p·2³²); kept elements are scaled by `scale` (= 1/(1-p)).
#pragma once

#include <algorithm>
#include <cstdint>

#include "base/rng.h"

namespace lmaas::kernels::ref {

constexpr int64_t kDropoutBlock = 4096;

inline uint32_t dropout_draw(uint64_t block_key, uint32_t j) {
  uint32_t h = (j * 0x9e3779b1u) ^ static_cast<uint32_t>(block_key);
  h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
  return h ^ static_cast<uint32_t>(block_key >> 32);
}

// mask[i] = scale or 0, out[i] = x[i]·mask[i], for the blocks [b0, b1) of an n-element tensor.
template <typename T>
void dropout_blocks(uint64_t key, uint32_t threshold, T scale, const T* x, T* out, T* mask, int64_t n, int64_t b0,
                    int64_t b1) {
  for (int64_t block = b0; block < b1; ++block) {
    const uint64_t block_key = mix64(key + static_cast<uint64_t>(block));
    const int64_t begin = block * kDropoutBlock, count = std::min(n - begin, kDropoutBlock);
    for (int64_t j = 0; j < count; ++j) {
      mask[begin + j] = dropout_draw(block_key, static_cast<uint32_t>(j)) >= threshold ? scale : T(0);
      out[begin + j] = x[begin + j] * mask[begin + j];
    }
  }
}

template <typename T>
void dropout_forward(uint64_t key, uint32_t threshold, T scale, const T* x, T* out, T* mask, int64_t n) {
  dropout_blocks(key, threshold, scale, x, out, mask, n, 0, (n + kDropoutBlock - 1) / kDropoutBlock);
}

}  // namespace lmaas::kernels::ref
