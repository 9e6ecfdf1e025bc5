// The AVX2 + FMA + F16C path of the quantized matmul (compiled with -mavx2 -mfma -mf16c; called only
// when the CPU has them). Integer block dot products use maddubs (u8·s8 -> i16 pairs) and madd (-> i32).
// Packed weights (quant_isa.h) run as halves of 8 rows, one row per 32-bit lane. Q8_0 levels stay signed
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

// Float kernels: 1 row × 6 tokens × 2 accumulators + a weight + an activation of the 16 vector registers.
constexpr int kFloatRows = 1, kFloatMaxTokens = 6;
// Packed kernels: tokens per tile (accumulators and block sums of a tile take 2 × 4 of 16 registers).
constexpr int kTileTokens = kActLayoutAvx2.tile_tokens;

}  // namespace

#include "kernels/cpu/quant_simd_body.h"

namespace {

template <WeightType kType, int NT>
void float_block_many(const Problem& p, int64_t r, int64_t t0, int64_t k0, int64_t k1, FloatPart* part) {
  float_block<kType, kFloatRows, NT>(p, r, t0, k0, k1, part);
}

constexpr int kLanes = 8;  // a group's 16 rows run as two halves of 8 (one per i32 lane)

// Levels of k-steps k and k + 4 of half h of a packed block: Q4_0 0..15; Q8_0 signed.
template <WeightType kType>
inline void packed_levels(const uint8_t* levels, int k, int h, __m256i& lo, __m256i& hi) {
  if constexpr (kType == WeightType::kQ4_0) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + 64 * k + 32 * h));
    const __m256i mask = _mm256_set1_epi8(0x0f);
    lo = _mm256_and_si256(v, mask);
    hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
  } else {
    lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + 64 * k + 32 * h));
    hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(levels + 64 * (k + 4) + 32 * h));
  }
}

// One k-step's products of 4 levels of each row with 4 activations: Q8_0 |w| times x with w's sign.
template <WeightType kType>
inline __m256i step_dot(__m256i s, __m256i w, __m256i xb) {
  if constexpr (kType == WeightType::kQ4_0) return dot_u8s8(s, w, xb);
  return dot_u8s8(s, _mm256_abs_epi8(w), _mm256_sign_epi8(xb, w));
}

// y[t0 + t, rows of half h of group g] for the NT tokens of the tile at t0 (the canonical block order, as
// the AVX-512 path).
template <WeightType kType, int NT>
void half_group_tokens(const PackedProblem& p, const ActQ8& a, int64_t g, int h, int64_t t0) {
  constexpr int64_t kBlockBytes = packed_block_bytes(kType);
  const uint8_t* group = p.packed + g * a.n_blocks * kBlockBytes;
  const Tile tile = tile_at(p, a, t0);
  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.n_blocks; ++b) {
    const uint8_t* blk = group + b * kBlockBytes;
    if (h == 0 && p.n_tokens <= kFewTokens) prefetch_ahead(blk, kPackedPrefetchBytes, kBlockBytes);
    const int8_t* words = tile.q + tile_block_offset(b, NT);
    __m256i s[NT];
    for (int t = 0; t < NT; ++t)
      s[t] = kType == WeightType::kQ4_0 ? _mm256_set1_epi32(tile.bias[b * NT + t]) : _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      __m256i lo, hi;
      packed_levels<kType>(blk + 2 * kPackRows, k, h, lo, hi);
      for (int t = 0; t < NT; ++t) {
        s[t] = step_dot<kType>(s[t], lo, _mm256_set1_epi32(load_i32(words + (k * NT + t) * 4)));
        s[t] = step_dot<kType>(s[t], hi, _mm256_set1_epi32(load_i32(words + ((k + 4) * NT + t) * 4)));
      }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * h)));
    for (int t = 0; t < NT; ++t) {
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(tile.d[b * NT + t]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), scale, acc[t]);
    }
  }
  const int64_t row = g * kPackRows + h * kLanes;
  for (int t = 0; t < NT; ++t) store_first(p.y + (t0 + t) * p.ldy + row, acc[t], p.n_rows - row);
}

template <WeightType kType>
void groups_typed(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  for (int64_t g = g0; g < g1; ++g) {
    for (int h = 0; h < 2 && g * kPackRows + h * kLanes < p.n_rows; ++h) {
      int64_t t = 0;
      for (; t + kTileTokens <= p.n_tokens; t += kTileTokens) half_group_tokens<kType, kTileTokens>(p, a, g, h, t);
      switch (p.n_tokens - t) {
        case 3: half_group_tokens<kType, 3>(p, a, g, h, t); break;
        case 2: half_group_tokens<kType, 2>(p, a, g, h, t); break;
        case 1: half_group_tokens<kType, 1>(p, a, g, h, t); break;
        default: break;
      }
    }
  }
}

}  // namespace

void packed_groups(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  if (p.type == WeightType::kQ8_0) groups_typed<WeightType::kQ8_0>(p, a, g0, g1);
  else groups_typed<WeightType::kQ4_0>(p, a, g0, g1);
}

}  // namespace lmaas::kernels::cpu::quant_isa::avx2
