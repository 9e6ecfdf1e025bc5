// The AMX path of the packed Q8_0 / Q4_0 products (compiled with the AVX-512 flags plus -mamx-tile
// -mamx-int8; called only when amx::usable()). For more than a few tokens the products are compute bound:
// the AVX-512 kernel spends 128 vpdpbusd on each block of 16 rows × 16 tokens, where one tile dot product
// (TDPBSSD: signed bytes both sides, four products summed into each i32) gives the same 256 exact integer
// sums. Those sums then take the AVX-512 kernel's float steps in its order (per block,
// acc = fma(float(s), d_w·d_x, acc)), so the results are bit-identical to avx512::packed_groups.
// Tiles: C = 16 tokens × 16 rows of i32 sums; A = 16 tokens × the block's 32 activation levels (one
// contiguous 512 bytes in kActLayoutAmx); B = the block's 8 k-steps × 16 rows × 4 levels,
// which is the packed layout itself (quant_isa.h): Q8_0 levels are loaded as stored, Q4_0 nibbles are
// widened to signed bytes (level − 8) first.
// GCC 12 reports its own _mm512_undefined_* placeholders (inside _mm512_cvtepi32_ps, _mm512_cvtph_ps) as
// uninitialized; the warnings are about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/cpu/quant_isa.h"

namespace lmaas::kernels::cpu::quant_isa::amx {
namespace {

constexpr int64_t kLevelBytes = 8 * kPackRows * 4;  // one block's B tile: 8 k-steps × 16 rows × 4 levels
constexpr int kRows = static_cast<int>(kAmxTileTokens);

// Tile registers (the intrinsics take their numbers as literals): one set per block of a pair.
// tmm0, tmm1: C; tmm2, tmm3: A; tmm4, tmm5: B.
constexpr int kCTiles[] = {0, 1}, kATiles[] = {2, 3}, kBTiles[] = {4, 5};

// The 64-byte tile configuration of palette 1 (Intel SDM, LDTILECFG).
struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];  // bytes per row of each tile register
  uint8_t rows[16];
};

// Tile shapes never change, so each thread loads the configuration once and keeps it (a tile
// configuration is per thread; loading one also zeroes the tiles, which no call relies on keeping).
void configure_tiles() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig config{};
  config.palette_id = 1;
  for (int c : kCTiles) config.rows[c] = kRows, config.colsb[c] = kPackRows * 4;
  for (int a : kATiles) config.rows[a] = kRows, config.colsb[a] = 32;
  for (int b : kBTiles) config.rows[b] = 8, config.colsb[b] = kPackRows * 4;
  // Not _tile_loadconfig: GCC 12's version tells the compiler it reads 8 of the 64 bytes.
  __asm__ volatile("ldtilecfg %0" ::"m"(config));
  configured = true;
}

// Block b's B tile: Q8_0 levels as stored (after the block's 16 scales); Q4_0 nibbles widened to signed
// bytes (level − 8) in `slot` (nibble bytes [4][16][4]: low nibbles are k-steps 0..3, high ones 4..7). The
// widening is done per block into a few slots that stay in L1: a whole group's widened levels (up to 32 KiB)
// would push the activations out.
template <WeightType kType>
__attribute__((always_inline)) inline const int8_t* block_levels(const uint8_t* blk, int8_t* slot) {
  if constexpr (kType == WeightType::kQ8_0) {
    return reinterpret_cast<const int8_t*>(blk + 2 * kPackRows);
  } else {
    const __m512i low_nibbles = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
    for (int k = 0; k < 4; ++k) {
      const __m512i v = _mm512_loadu_si512(blk + 2 * kPackRows + 64 * k);
      _mm512_storeu_si512(slot + 64 * k, _mm512_sub_epi8(_mm512_and_si512(v, low_nibbles), eight));
      _mm512_storeu_si512(slot + 64 * (k + 4),
                          _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), low_nibbles), eight));
    }
    // GCC 12's tile loads do not tell the compiler they read memory: the stores must come first.
    __asm__ volatile("" ::: "memory");
    return slot;
  }
}

// acc[t] = fma(float(s[t]), d_w·d_x[t], acc[t]) for the NT tokens of one block (the AVX-512 kernel's steps).
// dx: the block's activation scales, token t's at dx[t].
template <int NT>
__attribute__((always_inline)) inline void scale_sums(const int32_t* sums, const uint8_t* blk, const float* dx,
                                                      __m512* acc) {
  const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) {
    const __m512 s = _mm512_cvtepi32_ps(_mm512_load_si512(sums + t * kPackRows));
    acc[t] = _mm512_fmadd_ps(s, _mm512_mul_ps(dw, _mm512_set1_ps(dx[t])), acc[t]);
  }
}

inline void store_first16(float* y, __m512 v, int64_t n) {
  if (n >= kPackRows) return _mm512_storeu_ps(y, v);
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << n) - 1), v);
}

// y[t0 + t, rows of group g] for NT ≤ 16 tokens from t0, two blocks at a time (one per set of tiles). Each
// pair's Q4_0 levels are widened while the pair before it is in the tiles (a tile load waits for the stores
// it reads to reach L1), unless `widened` holds the whole group's already.
template <WeightType kType, int NT>
void token_rows(const PackedProblem& p, const ActQ8& a, int64_t g, int64_t t0, const int8_t* widened) {
  constexpr int64_t kBlockBytes = packed_block_bytes(kType);
  alignas(64) int32_t sums[2][2][kRows * kPackRows];  // [pair parity][block of the pair]
  alignas(64) int8_t slots[2][2][kLevelBytes];  // [pair parity][block of the pair]
  const int64_t n_blocks = a.n_blocks, group_bytes = n_blocks * kBlockBytes;
  const uint8_t* group = p.packed + g * group_bytes;
  // With many tokens a task is one group and the pool hands a thread the group before or after its last
  // (as in the AVX-512 kernel): the first token rows fetch both neighbours' blocks into L1 on the way.
  const uint8_t* next = t0 == 0 && g + 1 < (p.n_rows + kPackRows - 1) / kPackRows ? group + group_bytes : nullptr;
  const uint8_t* previous = t0 == 0 && g > 0 ? group - group_bytes : nullptr;
  // The tile of NT tokens (kActLayoutAmx): block b's levels at q + 32·NT·b, its scales at dx + NT·b.
  const int8_t* q = a.q + t0 * p.n_cols;
  const float* dx = a.d + t0 * n_blocks;
  // Every loop over acc is unrolled, so it stays in registers (the tile intrinsics clobber memory).
  __m512 acc[NT];
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  const int8_t* levels[2][2] = {};  // B tiles of the current and the next pair
  auto widen_pair = [&](int64_t b) {
    const int parity = static_cast<int>((b / 2) & 1);
    for (int h = 0; h < 2 && b + h < n_blocks; ++h)
      levels[parity][h] = widened ? widened + (b + h) * kLevelBytes
                                  : block_levels<kType>(group + (b + h) * kBlockBytes, slots[parity][h]);
  };
  widen_pair(0);
  // Pair i's sums are scaled in the next iteration, after pair i + 1's tile products are issued. With the
  // widening a pair ahead, this order is 7–20% faster on 2 threads than widening, multiplying and scaling each
  // pair in turn (quant_bench packed/q4_0/*/tokens:16, docs/benchmarks.md).
  auto scale_pair = [&](int64_t b, const int32_t (*pair_sums)[kRows * kPackRows]) {
    scale_sums<NT>(pair_sums[0], group + b * kBlockBytes, dx + NT * b, acc);
    if (b + 1 < n_blocks) scale_sums<NT>(pair_sums[1], group + (b + 1) * kBlockBytes, dx + NT * (b + 1), acc);
  };
  for (int64_t b = 0; b < n_blocks; b += 2) {
    const bool pair = b + 1 < n_blocks;
    const int parity = static_cast<int>((b / 2) & 1);
    _tile_zero(0);
    _tile_loadd(2, q + 32 * NT * b, 32);
    _tile_loadd(4, levels[parity][0], kPackRows * 4);
    _tile_dpbssd(0, 2, 4);
    if (pair) {
      _tile_zero(1);
      _tile_loadd(3, q + 32 * NT * (b + 1), 32);
      _tile_loadd(5, levels[parity][1], kPackRows * 4);
      _tile_dpbssd(1, 3, 5);
    }
    if (b + 2 < n_blocks) widen_pair(b + 2);
    for (int64_t off = 0; off < (pair ? 2 : 1) * kBlockBytes; off += 64) {
      if (next) _mm_prefetch(reinterpret_cast<const char*>(next + b * kBlockBytes + off), _MM_HINT_T0);
      if (previous) _mm_prefetch(reinterpret_cast<const char*>(previous + b * kBlockBytes + off), _MM_HINT_T0);
    }
    if (b > 0) scale_pair(b - 2, sums[parity ^ 1]);
    _tile_stored(0, sums[parity][0], kPackRows * 4);
    if (pair) _tile_stored(1, sums[parity][1], kPackRows * 4);
  }
  const int64_t last = (n_blocks - 1) / 2 * 2;
  scale_pair(last, sums[(last / 2) & 1]);
  const int64_t n_valid = p.n_rows - g * kPackRows;
#pragma GCC unroll 16
  for (int t = 0; t < NT; ++t) store_first16(p.y + (t0 + t) * p.ldy + g * kPackRows, acc[t], n_valid);
}

template <WeightType kType, int... N>
void token_rows_dispatch(int n, const PackedProblem& p, const ActQ8& a, int64_t g, int64_t t0,
                         const int8_t* widened, std::integer_sequence<int, N...>) {
  ((n == N + 1 ? token_rows<kType, N + 1>(p, a, g, t0, widened) : void()), ...);
}

template <WeightType kType>
void groups_typed(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  constexpr int64_t kBlockBytes = packed_block_bytes(kType);
  // Q4_0 with several tiles of tokens: each group's levels are widened once for all of them.
  const bool widen_once = kType == WeightType::kQ4_0 && p.n_tokens > kRows;
  thread_local std::vector<int8_t> widened;
  if (widen_once) widened.resize(static_cast<size_t>(a.n_blocks * kLevelBytes));
  for (int64_t g = g0; g < g1; ++g) {
    if (widen_once) {
      for (int64_t b = 0; b < a.n_blocks; ++b)
        block_levels<kType>(p.packed + (g * a.n_blocks + b) * kBlockBytes, widened.data() + b * kLevelBytes);
    }
    for (int64_t t = 0; t < p.n_tokens; t += kRows) {
      const int n = static_cast<int>(p.n_tokens - t < kRows ? p.n_tokens - t : kRows);
      token_rows_dispatch<kType>(n, p, a, g, t, widen_once ? widened.data() : nullptr,
                                 std::make_integer_sequence<int, kRows>{});
    }
  }
}

}  // namespace

bool usable() {
  static const bool granted = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amx_tile = (edx >> 24) & 1u, amx_int8 = (edx >> 25) & 1u;
    if (!amx_tile || !amx_int8) return false;
    // Linux keeps the 8 KiB tile state off until a process asks for it (ARCH_REQ_XCOMP_PERM for
    // XFEATURE_XTILEDATA); an older kernel or a refusal leaves the AVX-512 path in use.
    constexpr int kArchReqXcompPerm = 0x1023;
    constexpr int kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return granted;
}

void packed_groups(const PackedProblem& p, const ActQ8& a, int64_t g0, int64_t g1) {
  configure_tiles();
  if (p.type == WeightType::kQ8_0) groups_typed<WeightType::kQ8_0>(p, a, g0, g1);
  else groups_typed<WeightType::kQ4_0>(p, a, g0, g1);
}

}  // namespace lmaas::kernels::cpu::quant_isa::amx
