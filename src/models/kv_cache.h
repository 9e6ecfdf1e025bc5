// KvCache: the keys and values a decoder-only model has computed for each running sequence, one slot per
// sequence. A slot holds, per layer, rows of kv_dim floats for positions 0..length-1; memory grows with
// the positions written (in steps, never past max_positions) and is kept when a slot is cleared, so a
// slot reused by the next request allocates nothing.
// Invariants: length(slot) ≤ max_positions; rows at positions < length(slot) are valid for every layer.
// Threads: owned by the thread that drives the model; not shared.
#pragma once

#include <cstdint>
#include <vector>

namespace lmaas::models {

class KvCache {
 public:
  KvCache(int64_t n_layers, int64_t kv_dim, int n_slots, int64_t max_positions);

  int n_slots() const { return static_cast<int>(slots_.size()); }
  int64_t max_positions() const { return max_positions_; }
  int64_t kv_dim() const { return kv_dim_; }
  int64_t length(int slot) const { return slots_.at(slot).length; }

  // Makes room for positions < n_positions in `slot` (throws lmaas::Error past max_positions).
  void reserve(int slot, int64_t n_positions);
  // Marks positions < n as valid (after a forward pass wrote them); n ≤ reserved room.
  void set_length(int slot, int64_t n);
  // Forgets the slot's positions (memory is kept for reuse).
  void clear(int slot) { slots_.at(slot).length = 0; }
  // Drops positions ≥ n (for reusing a common prefix); n ≤ length.
  void truncate(int slot, int64_t n);

  // Row `pos` of the layer's keys/values in `slot`; rows of a layer are contiguous, kv_dim floats each.
  float* keys(int slot, int64_t layer) { return slots_[slot].keys[layer].data(); }
  float* values(int slot, int64_t layer) { return slots_[slot].values[layer].data(); }

  // Bytes held by all slots (for metrics).
  int64_t bytes_allocated() const;

 private:
  struct Slot {
    int64_t length = 0;
    int64_t capacity = 0;  // positions with memory behind them
    std::vector<std::vector<float>> keys, values;  // [layer][capacity · kv_dim]
  };
  int64_t n_layers_, kv_dim_, max_positions_;
  std::vector<Slot> slots_;
};

}  // namespace lmaas::models
