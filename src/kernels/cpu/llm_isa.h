// Internal to the decoder attention kernels (cpu/llm.cpp and its per-instruction-set file): the two passes
// of attend_one_head that have an AVX-512 version. llm.cpp picks the instruction set and runs the softmax
// between them.
// The AVX-512 file is compiled with extra -m flags, so it must not define or instantiate any inline function
// that other files also use (the linker could keep its copy for everyone): the helpers below have internal
// linkage (each file gets its own copy), and everything else it needs lives in its own anonymous namespace.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace lmaas::kernels::cpu::llm_isa {
namespace {

// Brings a row of `bytes` bytes into cache: L2 by default (where a miss costs little; L1 would hold back the
// loads of this head), or the level kHint names.
template <auto kHint = _MM_HINT_T1>
inline void prefetch_bytes(const void* row, int64_t bytes) {
  const char* p = static_cast<const char*>(row);
  for (int64_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, kHint);
}

// The next head's key rows (`n_rows` rows of `row_bytes` bytes, `row_step` bytes apart; null: none), fetched
// into L2 during this head's pass over its n_keys value rows: fetch(key) takes as many rows per key as it
// takes to fetch them all in that one pass.
class NextKeysFetch {
 public:
  NextKeysFetch(const void* rows, int64_t row_step, int64_t row_bytes, int64_t n_rows, int64_t n_keys)
      : rows_(static_cast<const char*>(rows)),
        row_step_(row_step),
        row_bytes_(row_bytes),
        n_rows_(n_rows),
        per_key_(rows == nullptr || n_keys <= 0 ? 0 : (n_rows + n_keys - 1) / n_keys) {}
  void operator()(int64_t key) const {
    for (int64_t r = key * per_key_; r < std::min(n_rows_, (key + 1) * per_key_); ++r) {
      prefetch_bytes(rows_ + r * row_step_, row_bytes_);
    }
  }

 private:
  const char* rows_;
  int64_t row_step_, row_bytes_, n_rows_, per_key_;
};

}  // namespace

namespace avx512 {

// scores[j] = scale · Σ_i q[i]·k[j·row_stride + i] for j < n_keys (16 keys at a time, each summed in 16
// lanes); value row j (same stride) is fetched into L2 meanwhile. Returns the largest score.
float key_scores(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                 int64_t head_dim, float scale, float* scores);
float key_scores(const float* q, const uint16_t* k, const uint16_t* v, int64_t row_stride, int64_t n_keys,
                 int64_t head_dim, float scale, float* scores);
// out[i] = Σ_j p[j]·v[j·row_stride + i]; the first n_next_keys rows of next_keys (same stride; the head
// attended next, null: none) are fetched into L2 meanwhile (NextKeysFetch).
void weighted_values(const float* p, const float* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
                     float* out, const float* next_keys, int64_t n_next_keys);
void weighted_values(const float* p, const uint16_t* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
                     float* out, const uint16_t* next_keys, int64_t n_next_keys);

}  // namespace avx512
}  // namespace lmaas::kernels::cpu::llm_isa
