// Internal to the quantized matmul (cpu/quant_matmul.cpp and its per-instruction-set files): the entry
// points each instruction-set file provides. They are serial and work on a range of rows; quant_matmul.cpp
// owns threading, scratch memory and the choice of path.
// The per-ISA files are compiled with extra -m flags, so they must not define or instantiate any inline
// function that other files also use (the linker could keep their copy): they include only this header,
// quant_types.h for its types, and intrinsics headers, and keep their helpers in anonymous namespaces.
#pragma once

#include <cstdint>

#include "kernels/quant_types.h"

namespace lmaas::kernels::cpu::quant_isa {

// One call's operands (see cpu::matmul). row_bytes is the byte stride of W's rows.
struct Problem {
  WeightType type;
  const uint8_t* w;
  int64_t row_bytes;
  int64_t n_cols;
  const float* x;
  int64_t n_tokens;
  float* y;
  int64_t ldy;
};

// Activations quantized for the fused Q8_0 / Q4_0 kernels (ref::quantize_activation_row): per token and
// block of 32 columns, 32 levels q, a scale d and bias = bias_scale·Σ_j q[j] (it undoes the offset of
// unsigned weight levels: −8 for Q4_0's 0..15, −128 for Q8_0 levels stored + 128).
// Token tiles (ActLayout): the kernels run tokens in tiles (the last one shorter) whose tokens are
// interleaved, so a kernel reads every activation of a block at fixed offsets from one pointer. Tile
// [t0, t0 + nt) holds q bytes [t0·n_cols, (t0 + nt)·n_cols) and d, bias entries [t0·n_blocks, (t0 + nt)·n_blocks):
// block b's levels start at byte 32·nt·b, each token's in words of word_bytes (word j of token u, levels
// word_bytes·j onwards, at word j·nt + u), and d, bias of block b of token u at b·nt + u.
struct ActQ8 {
  const int8_t* q;
  const float* d;
  const int32_t* bias;
  int64_t n_blocks;
};
struct ActLayout {
  int64_t tile_tokens;
  int64_t word_bytes;  // 4 or 32
};
// The layouts of the packed kernels: the VNNI and AVX2 kernels broadcast 4 levels of one token at a time; the
// AMX kernels load a block of 16 tokens × 32 levels as one tile (contiguous rows of 32 bytes), reading 16
// rows even in a shorter last tile, so a q buffer for them holds kAmxTileTokens·n_cols bytes more than the
// tokens need (read, never used).
inline constexpr ActLayout kActLayoutAvx2{4, 4};
inline constexpr ActLayout kActLayoutAvx512{8, 4};
inline constexpr int64_t kAmxTileTokens = 16;
inline constexpr ActLayout kActLayoutAmx{kAmxTileTokens, 32};
// Bias scale the kernels of an instruction set expect for a weight type.
inline constexpr int32_t kBiasQ4_0 = -8;
inline constexpr int32_t kBiasQ8_0Unsigned = -128;

// Packed Q8_0 / Q4_0 weights (cpu::PackedQuantMatrix): rows in groups of kPackRows, each group's blocks
// contiguous; block b of group g at (g·n_blocks + b)·packed_block_bytes(type):
//   f16 d[16], then Q8_0: int8 levels [8][16][4] (k-step k holds levels 4k..4k+3 of each row);
//                   Q4_0: bytes [4][16][4] = qs[4k..4k+3] of each row (low nibbles: k-step k, high: k + 4).
// The same bytes as the original blocks, rearranged so one vector holds 4 levels of each of 16 rows.
inline constexpr int64_t kPackRows = 16;
// Up to this many tokens a call is bound by streaming W from memory: tasks are long ranges of rows (which
// the hardware prefetcher follows); with more, each task is one group of rows and the kernels fetch the
// neighbouring groups ahead themselves.
inline constexpr int64_t kFewTokens = 3;
inline constexpr int64_t packed_block_bytes(WeightType type) {
  return kPackRows * (type == WeightType::kQ8_0 ? 34 : 18);
}
// One call's operands on packed weights: y[t, r] for r < n_rows (the last group may be short).
struct PackedProblem {
  WeightType type;
  const uint8_t* packed;
  int64_t n_rows;
  int64_t n_cols;
  int64_t n_tokens;
  float* y;
  int64_t ldy;
};
// Float weights: rows per block of the many-token path (a block's weights stay in L2 while every token
// group passes over them).
inline constexpr int64_t kFloatBlockRows = 64;

#define LMAAS_QUANT_ISA_ENTRY_POINTS                                                                      \
  /* Blocks [b0, b1) of every row of x [n_tokens, n_cols] -> q, d, bias in `layout` (ActQ8). */          \
  void quantize_activations(const float* x, int64_t n_cols, int64_t n_tokens, int64_t b0, int64_t b1,     \
                            ActLayout layout, int32_t bias_scale, int8_t* q, float* d, int32_t* bias);    \
  /* Packed Q8_0 / Q4_0, any number of tokens: y rows of groups [g0, g1), every token. */                 \
  void packed_groups(const PackedProblem& p, const ActQ8& act, int64_t g0, int64_t g1);                   \
  /* F32 / F16 / BF16, any number of tokens: y rows [r0, r1) for every token. */                          \
  void float_rows(const Problem& p, int64_t r0, int64_t r1);

namespace avx2 {
LMAAS_QUANT_ISA_ENTRY_POINTS
}
namespace avx512 {
LMAAS_QUANT_ISA_ENTRY_POINTS
}
// AMX-INT8 tiles (quant_amx.cpp), beside the AVX-512 path: packed Q8_0 / Q4_0 with activations in
// kActLayoutAmx, bit-identical to avx512::packed_groups.
namespace amx {
// The CPU has AMX-TILE and AMX-INT8 and the OS granted this process the tile state (asked once).
bool usable();
void packed_groups(const PackedProblem& p, const ActQ8& act, int64_t g0, int64_t g1);
}  // namespace amx

#undef LMAAS_QUANT_ISA_ENTRY_POINTS

}  // namespace lmaas::kernels::cpu::quant_isa
