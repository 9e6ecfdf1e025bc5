// The AVX2 + FMA + F16C path of the quantized matmul (compiled with -mavx2 -mfma -mf16c; called only
// when the CPU has them). Integer block dot products use maddubs (u8·s8 -> i16 pairs) and madd (-> i32).
// Prefill tiles are 16 rows: two groups of 8 rows, one row per 32-bit lane. Q8_0 levels stay signed
// (|w| times the activation with w's sign: maddubs pairs ≤ 2·127·127 never saturate); Q4_0 levels
// 0..15 multiply the activations directly and the bias restores the −8 offset.
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "kernels/cpu/quant_isa.h"

namespace lmaas::kernels::cpu::quant_isa::avx2 {
namespace {

inline __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

// Q8_0 levels stay signed: |w| times the activations carrying w's sign (no bias).
constexpr bool kQ8Offset = false;
// Float kernels: 1 row × 6 tokens × 2 accumulators + a weight + an activation of the 16 vector registers.
constexpr int kFloatRows = 1, kFloatMaxTokens = 6;
inline __m256i dot_q8(__m256i w, __m256i xq) {
  return dot_u8s8(_mm256_setzero_si256(), _mm256_abs_epi8(w), _mm256_sign_epi8(xq, w));
}

}  // namespace

#include "kernels/cpu/quant_simd_body.h"

namespace {

constexpr int kLanes = 8, kGroups = kTileRowsAvx2 / kLanes, kMaxTokens = 4;
constexpr int64_t kGroupBlockBytes = group_block_bytes(kLanes);

// y[t0 + t, rows of the group] for NT tokens from one repacked group of 8 rows (n_valid of them real).
template <bool kSigned, int NT>
void tile_group(const uint8_t* group, const Problem& p, const ActQ8& a, int64_t t0, float* y, int64_t n_valid) {
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  const int8_t* xq = a.q + t0 * p.n_cols;
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const uint8_t* blk = group + b * kGroupBlockBytes;
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t)
      isum[t] = kSigned ? _mm256_setzero_si256() : _mm256_set1_epi32(a.bias[(t0 + t) * a.n_blocks + b]);
    for (int k = 0; k < 8; ++k) {
      const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(blk + 4 * kLanes + 32 * k));
      const __m256i aw = kSigned ? _mm256_abs_epi8(w) : w;
      for (int t = 0; t < NT; ++t) {
        const __m256i xb = _mm256_set1_epi32(load_i32(xq + t * p.n_cols + b * kBlock + 4 * k));
        isum[t] = dot_u8s8(isum[t], aw, kSigned ? _mm256_sign_epi8(xb, w) : xb);
      }
    }
    const __m256 dw = _mm256_load_ps(reinterpret_cast<const float*>(blk));
    for (int t = 0; t < NT; ++t) {
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(a.d[(t0 + t) * a.n_blocks + b]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t]), scale, acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_first(y + t * p.ldy, acc[t], n_valid);
}

template <bool kSigned>
void tile_tokens(const uint8_t* group, const Problem& p, const ActQ8& a, float* y, int64_t n_valid) {
  int64_t t = 0;
  for (; t + kMaxTokens <= p.n_tokens; t += kMaxTokens)
    tile_group<kSigned, kMaxTokens>(group, p, a, t, y + t * p.ldy, n_valid);
  switch (p.n_tokens - t) {
    case 3: tile_group<kSigned, 3>(group, p, a, t, y + t * p.ldy, n_valid); break;
    case 2: tile_group<kSigned, 2>(group, p, a, t, y + t * p.ldy, n_valid); break;
    case 1: tile_group<kSigned, 1>(group, p, a, t, y + t * p.ldy, n_valid); break;
    default: break;
  }
}

}  // namespace

void tiles(const Problem& p, const ActQ8& a, int64_t r0, int64_t r1, uint8_t* scratch) {
  uint8_t* packed = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  const bool is_signed = p.type == WeightType::kQ8_0;
  for (int64_t r = r0; r < r1; r += kTileRowsAvx2) {
    repack_tile<kLanes>(p, r, r1, kGroups, /*q8_offset=*/false, packed);
    for (int g = 0; g < kGroups; ++g) {
      const int64_t row = r + g * kLanes;
      if (row >= r1) break;
      const uint8_t* group = packed + g * a.n_blocks * kGroupBlockBytes;
      const int64_t n_valid = r1 - row < kLanes ? r1 - row : kLanes;
      if (is_signed) tile_tokens<true>(group, p, a, p.y + row, n_valid);
      else tile_tokens<false>(group, p, a, p.y + row, n_valid);
    }
  }
}

}  // namespace lmaas::kernels::cpu::quant_isa::avx2
