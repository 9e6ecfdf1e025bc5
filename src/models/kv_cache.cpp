// KvCache: see kv_cache.h.
#include "models/kv_cache.h"

#include <algorithm>

#include "base/check.h"
#include "kernels/quant_types.h"

namespace lmaas::models {

namespace {

int64_t row_bytes_of(KvType type, int64_t head_dim) {
  switch (type) {
    case KvType::kF32: return head_dim * 4;
    case KvType::kF16: return head_dim * 2;
    case KvType::kQ8_0: return head_dim / kernels::kQuantBlock * static_cast<int64_t>(sizeof(kernels::BlockQ8_0));
  }
  return 0;
}

// Capacity grows to the next multiple of this many positions (and at least doubles), so a sequence
// generated token by token reallocates O(log n) times.
constexpr int64_t kGrowPositions = 256;
}  // namespace

KvCache::KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim, int n_slots, int64_t max_positions,
                 KvType type)
    : n_layers_(n_layers),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      max_positions_(max_positions),
      type_(type),
      row_bytes_(row_bytes_of(type, head_dim)),
      slots_(static_cast<size_t>(n_slots)) {
  LMAAS_CHECK(n_layers > 0 && n_kv_heads > 0 && head_dim > 0 && n_slots > 0 && max_positions > 0,
              "KvCache: layers {}, kv heads {}, head_dim {}, slots {}, positions {} must all be positive", n_layers,
              n_kv_heads, head_dim, n_slots, max_positions);
  LMAAS_CHECK(type != KvType::kQ8_0 || head_dim % kernels::kQuantBlock == 0,
              "KV-cache type q8_0 needs a head size that is a multiple of {}; this model's heads have {} entries "
              "(use f16 or f32)", kernels::kQuantBlock, head_dim);
  for (Slot& s : slots_) {
    s.keys.resize(static_cast<size_t>(n_layers));
    s.values.resize(static_cast<size_t>(n_layers));
  }
}

void KvCache::reserve(int slot, int64_t n_positions) {
  LMAAS_CHECK(slot >= 0 && slot < n_slots(), "KvCache: slot {} out of range [0, {})", slot, n_slots());
  LMAAS_CHECK(n_positions <= max_positions_, "KvCache: {} positions exceed the cache's limit of {}", n_positions,
              max_positions_);
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (n_positions <= s.capacity) return;
  int64_t capacity = std::max(n_positions, 2 * s.capacity);
  capacity = std::min(max_positions_, (capacity + kGrowPositions - 1) / kGrowPositions * kGrowPositions);
  // Head-major rows move when the capacity grows: copy each head's valid positions to its new place.
  const int64_t row_bytes = row_bytes_;
  auto regrow = [&](std::vector<uint8_t>& layer) {
    std::vector<uint8_t> grown(static_cast<size_t>(n_kv_heads_ * capacity * row_bytes));
    for (int64_t h = 0; h < n_kv_heads_ && s.length > 0; ++h) {
      std::copy_n(layer.data() + h * s.capacity * row_bytes, s.length * row_bytes, grown.data() + h * capacity * row_bytes);
    }
    layer.swap(grown);
  };
  for (int64_t l = 0; l < n_layers_; ++l) {
    regrow(s.keys[static_cast<size_t>(l)]);
    regrow(s.values[static_cast<size_t>(l)]);
  }
  s.capacity = capacity;
}

void KvCache::set_length(int slot, int64_t n) {
  Slot& s = slots_.at(static_cast<size_t>(slot));
  LMAAS_CHECK(n >= 0 && n <= s.capacity, "KvCache: length {} beyond the slot's reserved {}", n, s.capacity);
  s.length = n;
}

void KvCache::truncate(int slot, int64_t n) {
  Slot& s = slots_.at(static_cast<size_t>(slot));
  LMAAS_CHECK(n >= 0 && n <= s.length, "KvCache: cannot truncate a slot of length {} to {}", s.length, n);
  s.length = n;
}

int64_t KvCache::bytes_allocated() const {
  int64_t n = 0;
  for (const Slot& s : slots_) n += 2 * n_layers_ * n_kv_heads_ * s.capacity * row_bytes_;
  return n;
}

}  // namespace lmaas::models
