// The AVX-512 path of the quantized matmul (compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl
// -mavx512vnni plus AVX2/FMA/F16C; called only when the CPU has all of them). Integer block dot products
// are VNNI vpdpbusd (u8·s8, four products summed into each i32 lane, no saturation).
// gemv and the float kernels stay on 256-bit vectors (blocks are 32 levels; on Zen 4 512-bit operations
// issue as two halves) and share quant_simd_body.h with the AVX2 path.
// Prefill tiles are 32 rows: two groups of 16 rows, one row per 32-bit lane of a zmm register, with the
// weight levels unsigned (Q4_0 0..15, Q8_0 q + 128) against broadcast signed activations, the offset
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

inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

// Q8_0 levels as u8 q + 128; the activations' bias (−128·Σq) removes the offset.
constexpr bool kQ8Offset = true;
// Float kernels: 4 rows × 3 tokens × 2 accumulators + 4 weights + 1 activation of the 32 vector registers.
constexpr int kFloatRows = 4, kFloatMaxTokens = 3;
inline __m256i dot_q8(__m256i w, __m256i xq) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_xor_si256(w, _mm256_set1_epi8(-128)), xq);
}

}  // namespace

#include "kernels/cpu/quant_simd_body.h"

namespace {

constexpr int kLanes = 16, kGroups = kTileRowsAvx512 / kLanes, kMaxTokens = 6;
constexpr int64_t kGroupBlockBytes = group_block_bytes(kLanes);

inline void store_first16(float* y, __m512 v, int64_t n) {
  if (n >= kLanes) return _mm512_storeu_ps(y, v);
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << n) - 1), v);
}

// y[t0 + t, rows of the tile] for NT tokens from both repacked 16-row groups of a tile (n_valid rows real).
template <int NT>
void tile_tokens_fixed(const uint8_t* tile, const Problem& p, const ActQ8& a, int64_t t0, float* y, int64_t n_valid) {
  const uint8_t* g1 = tile + a.n_blocks * kGroupBlockBytes;
  __m512 acc0[NT], acc1[NT];
  for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
  const int8_t* xq = a.q + t0 * p.n_cols;
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const uint8_t* b0 = tile + b * kGroupBlockBytes;
    const uint8_t* b1 = g1 + b * kGroupBlockBytes;
    __m512i s0[NT], s1[NT];
    for (int t = 0; t < NT; ++t) s0[t] = s1[t] = _mm512_set1_epi32(a.bias[(t0 + t) * a.n_blocks + b]);
    for (int k = 0; k < 8; ++k) {
      const __m512i w0 = _mm512_load_si512(b0 + 4 * kLanes + 64 * k);
      const __m512i w1 = _mm512_load_si512(b1 + 4 * kLanes + 64 * k);
      for (int t = 0; t < NT; ++t) {
        const __m512i xb = _mm512_set1_epi32(load_i32(xq + t * p.n_cols + b * kBlock + 4 * k));
        s0[t] = _mm512_dpbusd_epi32(s0[t], w0, xb);
        s1[t] = _mm512_dpbusd_epi32(s1[t], w1, xb);
      }
    }
    const __m512 d0 = _mm512_load_ps(b0), d1 = _mm512_load_ps(b1);
    for (int t = 0; t < NT; ++t) {
      const __m512 dx = _mm512_set1_ps(a.d[(t0 + t) * a.n_blocks + b]);
      acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s0[t]), _mm512_mul_ps(d0, dx), acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1[t]), _mm512_mul_ps(d1, dx), acc1[t]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    store_first16(y + t * p.ldy, acc0[t], n_valid);
    if (n_valid > kLanes) store_first16(y + t * p.ldy + kLanes, acc1[t], n_valid - kLanes);
  }
}

void tile_tokens(const uint8_t* tile, const Problem& p, const ActQ8& a, float* y, int64_t n_valid) {
  int64_t t = 0;
  for (; t + kMaxTokens <= p.n_tokens; t += kMaxTokens)
    tile_tokens_fixed<kMaxTokens>(tile, p, a, t, y + t * p.ldy, n_valid);
  switch (p.n_tokens - t) {
    case 5: tile_tokens_fixed<5>(tile, p, a, t, y + t * p.ldy, n_valid); break;
    case 4: tile_tokens_fixed<4>(tile, p, a, t, y + t * p.ldy, n_valid); break;
    case 3: tile_tokens_fixed<3>(tile, p, a, t, y + t * p.ldy, n_valid); break;
    case 2: tile_tokens_fixed<2>(tile, p, a, t, y + t * p.ldy, n_valid); break;
    case 1: tile_tokens_fixed<1>(tile, p, a, t, y + t * p.ldy, n_valid); break;
    default: break;
  }
}

}  // namespace

void tiles(const Problem& p, const ActQ8& a, int64_t r0, int64_t r1, uint8_t* scratch) {
  uint8_t* packed = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  for (int64_t r = r0; r < r1; r += kTileRowsAvx512) {
    repack_tile<kLanes>(p, r, r1, kGroups, /*q8_offset=*/true, packed);
    const int64_t n_valid = r1 - r < kTileRowsAvx512 ? r1 - r : kTileRowsAvx512;
    tile_tokens(packed, p, a, p.y + r, n_valid);
  }
}

}  // namespace lmaas::kernels::cpu::quant_isa::avx512
