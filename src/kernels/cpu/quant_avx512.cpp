// The AVX-512 path of the quantized matmul (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl
// -mavx512vnni plus AVX2/FMA/F16C; called only when the CPU has all of them). Integer block dot products
// are VNNI vpdpbusd (u8·s8, four products summed into each i32 lane, no saturation).
// The float kernels share quant_simd_body.h with the AVX2 path; many tokens run a 512-bit kernel whose
// lanes hold the body's two 256-bit accumulators side by side (the same arithmetic, twice the width).
// Packed weights (quant_isa.h) are 16 rows per group, one row per 32-bit lane of a zmm register, with the
// weight levels made unsigned (Q4_0 0..15, Q8_0 q + 128) against broadcast signed activations, the offset
// removed by starting each block's sum at the activations' bias (−8·Σq or −128·Σq).
// GCC 12 reports its own _mm512_undefined_ps() placeholders (inside _mm512_cvtepi32_ps) as "maybe
// uninitialized"; the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "kernels/cpu/quant_isa.h"

namespace lmaas::kernels::cpu::quant_isa::avx512 {
namespace {

// Float kernels, many tokens: 4 rows × 6 tokens of 512-bit accumulators + 4 weights + 1 activation of the
// 32 vector registers.
constexpr int kFloatRows = 4, kFloatMaxTokens = 6;
// Packed kernels: tokens per activation tile (two tiles run together; see group_tiles).
constexpr int kTileTokens = kActLayoutAvx512.tile_tokens;

}  // namespace

#include "kernels/cpu/quant_simd_body.h"

namespace {

// 16 weights of a float row from column c.
template <WeightType kType>
inline __m512 load16(const uint8_t* row, int64_t c) {
  if constexpr (kType == WeightType::kF16)
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c)));
  if constexpr (kType == WeightType::kBF16)
    return _mm512_castsi512_ps(_mm512_slli_epi32(
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * c))), 16));
  return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + c);
}

// float_block's many-token case on 512-bit vectors: lanes 0–7 of an accumulator are the body's accumulator 0
// and lanes 8–15 its accumulator 1 (columns c..c+7 and c+8..c+15 of each 16), so every lane computes what
// the 256-bit kernel computes, and float_block_finish takes over at the end of the block.
template <WeightType kType, int NT>
void float_block_many(const Problem& p, int64_t r, int64_t t0, int64_t k0, int64_t k1, FloatPart* part) {
  constexpr int NR = kFloatRows;
  const int64_t n = p.n_cols;
  const float* x = p.x + t0 * n;
  const uint8_t* rows[NR];
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i) rows[i] = p.w + (r + i) * p.row_bytes;
  __m512 acc[NR][NT];
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i)
    LMAAS_UNROLL
    for (int t = 0; t < NT; ++t)
      acc[i][t] = k0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(reinterpret_cast<const float*>(part[i * kFloatMaxTokens + t]));
  int64_t c = k0;
  for (; c + 16 <= k1; c += 16) {
    __m512 w[NR];
    LMAAS_UNROLL
    for (int i = 0; i < NR; ++i) w[i] = load16<kType>(rows[i], c);
    LMAAS_UNROLL
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_loadu_ps(x + t * n + c);
      LMAAS_UNROLL
      for (int i = 0; i < NR; ++i) acc[i][t] = _mm512_fmadd_ps(w[i], xv, acc[i][t]);
    }
  }
  __m256 halves[2][NR][NT];
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i)
    LMAAS_UNROLL
    for (int t = 0; t < NT; ++t) {
      halves[0][i][t] = _mm512_castps512_ps256(acc[i][t]);
      halves[1][i][t] = _mm512_extractf32x8_ps(acc[i][t], 1);
    }
  float_block_finish<kType, NR, NT>(p, rows, r, t0, c, k1, halves, part);
}

inline void store_first16(float* y, __m512 v, int64_t n) {
  if (n >= kPackRows) return _mm512_storeu_ps(y, v);
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << n) - 1), v);
}

// Levels of k-steps k and k + 4 of a packed block (unsigned: Q4_0 0..15, Q8_0 q + 128).
template <WeightType kType>
inline void packed_levels(const uint8_t* levels, int k, __m512i& lo, __m512i& hi) {
  if constexpr (kType == WeightType::kQ4_0) {
    const __m512i v = _mm512_loadu_si512(levels + 64 * k);
    const __m512i mask = _mm512_set1_epi8(0x0f);
    lo = _mm512_and_si512(v, mask);
    hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), mask);
  } else {
    const __m512i offset = _mm512_set1_epi8(-128);
    lo = _mm512_xor_si512(_mm512_loadu_si512(levels + 64 * k), offset);
    hi = _mm512_xor_si512(_mm512_loadu_si512(levels + 64 * (k + 4)), offset);
  }
}

// Block b of a group for the NT tokens of a tile: each token's exact integer sum (starting at the
// activations' bias, which removes the unsigned levels' offset), then acc[t] = fma(float(s), d_w·d_x, acc[t]).
template <WeightType kType, int NT>
__attribute__((always_inline)) inline void tile_block(const uint8_t* blk, __m512 dw, const Tile& tile, int64_t b,
                                                      __m512* acc) {
  const int8_t* words = tile.q + tile_block_offset(b, NT);
  __m512i s[NT];
  for (int t = 0; t < NT; ++t) s[t] = _mm512_set1_epi32(tile.bias[b * NT + t]);
  for (int k = 0; k < 4; ++k) {
    __m512i lo, hi;
    packed_levels<kType>(blk + 2 * kPackRows, k, lo, hi);
    for (int t = 0; t < NT; ++t) {
      s[t] = _mm512_dpbusd_epi32(s[t], lo, _mm512_set1_epi32(load_i32(words + (k * NT + t) * 4)));
      s[t] = _mm512_dpbusd_epi32(s[t], hi, _mm512_set1_epi32(load_i32(words + ((k + 4) * NT + t) * 4)));
    }
  }
  for (int t = 0; t < NT; ++t) {
    const __m512 dx = _mm512_set1_ps(tile.d[b * NT + t]);
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(dw, dx), acc[t]);
  }
}

// y[t0 + t, rows of group g] for the tile of NA tokens at t0 and, when NB > 0, the tile of NB tokens after
// it: both tiles take each block in turn, so the group streams from memory once for up to 16 tokens (its
// accumulators take 16 of the 32 zmm registers, the block sums 8 more).
template <WeightType kType, int NA, int NB>
void group_tiles(const PackedProblem& p, const ActQ8& a, int64_t g, int64_t t0) {
  constexpr int64_t kBlockBytes = packed_block_bytes(kType);
  const uint8_t* group = p.packed + g * a.n_blocks * kBlockBytes;
  const Tile first = tile_at(p, a, t0), second = tile_at(p, a, t0 + NA);
  __m512 acc[NA + NB];
  for (int t = 0; t < NA + NB; ++t) acc[t] = _mm512_setzero_ps();
  // A task is one group when there are many tokens, and the pool hands a thread the group before or after
  // its last (cpu/quant_matmul.cpp, base/thread_pool.h): the first pass fetches both neighbours' blocks
  // into L1 as it goes, since the hardware prefetcher restarts at every task.
  const int64_t group_bytes = a.n_blocks * kBlockBytes;
  const bool stream = p.n_tokens <= kFewTokens;
  const bool fetch_neighbours = t0 == 0 && !stream;
  const uint8_t* next = g + 1 < (p.n_rows + kPackRows - 1) / kPackRows ? group + group_bytes : nullptr;
  const uint8_t* previous = g > 0 ? group - group_bytes : nullptr;
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const uint8_t* blk = group + b * kBlockBytes;
    if (fetch_neighbours) {
      for (int64_t off = 0; off < kBlockBytes; off += 64) {
        if (next) _mm_prefetch(reinterpret_cast<const char*>(next + b * kBlockBytes + off), _MM_HINT_T0);
        if (previous) _mm_prefetch(reinterpret_cast<const char*>(previous + b * kBlockBytes + off), _MM_HINT_T0);
      }
    }
    if (stream) prefetch_ahead(blk, kPackedPrefetchBytes, kBlockBytes);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    tile_block<kType, NA>(blk, dw, first, b, acc);
    if constexpr (NB > 0) tile_block<kType, NB>(blk, dw, second, b, acc + NA);
  }
  const int64_t n_valid = p.n_rows - g * kPackRows;
  for (int t = 0; t < NA + NB; ++t) store_first16(p.y + (t0 + t) * p.ldy + g * kPackRows, acc[t], n_valid);
}

// n tokens from t0: one tile (n ≤ kTileTokens) or a full tile and n − kTileTokens more.
template <WeightType kType, int... N>
void group_tiles_dispatch(int n, const PackedProblem& p, const ActQ8& a, int64_t g, int64_t t0,
                          std::integer_sequence<int, N...>) {
  ((n == N + 1 ? group_tiles<kType, N + 1, 0>(p, a, g, t0) : void()), ...);
  ((n == kTileTokens + N + 1 ? group_tiles<kType, kTileTokens, N + 1>(p, a, g, t0) : void()), ...);
}

template <WeightType kType>
void groups_typed(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  for (int64_t g = g0; g < g1; ++g) {
    for (int64_t t = 0; t < p.n_tokens; t += 2 * kTileTokens) {
      const int n = static_cast<int>(p.n_tokens - t < 2 * kTileTokens ? p.n_tokens - t : 2 * kTileTokens);
      group_tiles_dispatch<kType>(n, p, a, g, t, std::make_integer_sequence<int, kTileTokens>{});
    }
  }
}

}  // namespace

void packed_groups(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  if (p.type == WeightType::kQ8_0) groups_typed<WeightType::kQ8_0>(p, a, g0, g1);
  else groups_typed<WeightType::kQ4_0>(p, a, g0, g1);
}

}  // namespace lmaas::kernels::cpu::quant_isa::avx512
