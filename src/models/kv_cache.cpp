// KvCache: see kv_cache.h.
#include "models/kv_cache.h"

#include <algorithm>

#include "base/check.h"

namespace lmaas::models {

namespace {

kernels::WeightType entry_type_of(KvType type) {
  switch (type) {
    case KvType::kF32: return kernels::WeightType::kF32;
    case KvType::kF16: return kernels::WeightType::kF16;
    case KvType::kQ8_0: return kernels::WeightType::kQ8_0;
  }
  return kernels::WeightType::kF32;
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
      row_bytes_(kernels::row_bytes(entry_type_of(type), head_dim)),
      slots_(static_cast<size_t>(n_slots)) {
  LMAAS_CHECK(n_layers > 0 && n_kv_heads > 0 && head_dim > 0 && n_slots > 0 && max_positions > 0,
              "KvCache: layers {}, kv heads {}, head_dim {}, slots {}, positions {} must all be positive", n_layers,
              n_kv_heads, head_dim, n_slots, max_positions);
  const int64_t block = kernels::block_size(entry_type());
  LMAAS_CHECK(head_dim % block == 0,
              "KV-cache type {} needs a head size that is a multiple of {}; this model's heads have {} entries "
              "(use f16 or f32)", kernels::weight_type_name(entry_type()), block, head_dim);
  for (Slot& s : slots_) {
    s.keys.resize(static_cast<size_t>(n_layers));
    s.values.resize(static_cast<size_t>(n_layers));
  }
}

kernels::WeightType KvCache::entry_type() const { return entry_type_of(type_); }

void KvCache::reserve(int slot, int64_t n_positions) {
  LMAAS_CHECK(slot >= 0 && slot < n_slots(), "KvCache: slot {} out of range [0, {})", slot, n_slots());
  LMAAS_CHECK(n_positions <= max_positions_, "KvCache: {} positions exceed the cache's limit of {}", n_positions,
              max_positions_);
  Slot& s = slots_[static_cast<size_t>(slot)];
  if (n_positions <= s.capacity) return;
  int64_t capacity = std::max(n_positions, 2 * s.capacity);
  capacity = std::min(max_positions_, (capacity + kGrowPositions - 1) / kGrowPositions * kGrowPositions);
  // Head-major rows move when the capacity grows: copy each head's valid positions to its new place.
  auto regrow = [&](std::vector<uint8_t>& layer) {
    std::vector<uint8_t> grown(static_cast<size_t>(n_kv_heads_ * capacity * row_bytes_));
    for (int64_t h = 0; h < n_kv_heads_ && s.length > 0; ++h) {
      std::copy_n(layer.data() + h * s.capacity * row_bytes_, s.length * row_bytes_,
                  grown.data() + h * capacity * row_bytes_);
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
