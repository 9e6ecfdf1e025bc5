// KvCache: the keys and values a decoder-only model has computed for each running sequence, one slot per
// sequence. Entries are float32; float16 (half the memory and memory traffic: llama.cpp's default); or
// Q8_0 rows (blocks of 32 int8 levels and a half scale, 34 bytes per 32 entries: about half of float16
// again; llama.cpp's `-ctk q8_0 -ctv q8_0`). The model rounds each key and value once, when it stores it.
// A slot holds, per layer and key/value head, rows of head_dim entries for positions 0..length-1,
// head-major (one head's positions are contiguous, so attention streams them); memory grows with the
// positions written (in steps, never past max_positions) and is kept when a slot is cleared, so a slot
// reused by the next request allocates nothing.
// Invariants: length(slot) ≤ max_positions; rows at positions < length(slot) are valid for every layer.
// Threads: owned by the thread that drives the model; not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/quant_types.h"

namespace lmaas::models {

enum class KvType : uint8_t { kF32, kF16, kQ8_0 };
// Command-line names of the entry types ("f32", "f16", "q8_0").
inline const std::map<std::string, KvType>& kv_type_names() {
  static const std::map<std::string, KvType> names = {
      {"f32", KvType::kF32}, {"f16", KvType::kF16}, {"q8_0", KvType::kQ8_0}};
  return names;
}

class KvCache {
 public:
  KvCache(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim, int n_slots, int64_t max_positions,
          KvType type = KvType::kF32);

  KvType type() const { return type_; }
  int n_slots() const { return static_cast<int>(slots_.size()); }
  int64_t max_positions() const { return max_positions_; }
  int64_t head_dim() const { return head_dim_; }
  int64_t length(int slot) const { return slots_.at(slot).length; }
  // The layout of one position of one head: a row of head_dim entries as kernels/quant_types.h stores them.
  kernels::WeightType entry_type() const;
  int64_t row_bytes() const { return row_bytes_; }

  // Makes room for positions < n_positions in `slot` (throws lmaas::Error past max_positions).
  void reserve(int slot, int64_t n_positions);
  // Marks positions < n as valid (after a forward pass wrote them); n ≤ reserved room.
  void set_length(int slot, int64_t n);
  // Forgets the slot's positions (memory is kept for reuse).
  void clear(int slot) { slots_.at(slot).length = 0; }
  // Drops positions ≥ n (for reusing a common prefix); n ≤ length.
  void truncate(int slot, int64_t n);

  // The keys/values of one head of a layer in `slot`: positions 0..capacity-1, head_dim entries each,
  // contiguous (row `pos` at + pos·row_bytes()), of type(): float* for kF32, uint16_t* (IEEE half) for kF16,
  // BlockQ8_0* (head_dim / 32 blocks a row) for kQ8_0.
  // Valid until the next reserve() of the slot.
  void* keys(int slot, int64_t layer, int64_t head) { return head_rows(slots_[static_cast<size_t>(slot)].keys, layer, head, slot); }
  void* values(int slot, int64_t layer, int64_t head) {
    return head_rows(slots_[static_cast<size_t>(slot)].values, layer, head, slot);
  }

  // Bytes held by all slots (for metrics).
  int64_t bytes_allocated() const;

 private:
  struct Slot {
    int64_t length = 0;
    int64_t capacity = 0;  // positions with memory behind them
    std::vector<std::vector<uint8_t>> keys, values;  // [layer] bytes of [head][capacity] rows
  };
  void* head_rows(std::vector<std::vector<uint8_t>>& layers, int64_t layer, int64_t head, int slot) {
    return layers[static_cast<size_t>(layer)].data() + head * slots_[static_cast<size_t>(slot)].capacity * row_bytes_;
  }
  int64_t n_layers_, n_kv_heads_, head_dim_, max_positions_;
  KvType type_;
  int64_t row_bytes_;
  std::vector<Slot> slots_;
};

}  // namespace lmaas::models
