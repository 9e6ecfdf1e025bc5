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

// Activations quantized for the fused Q8_0 / Q4_0 kernels (ref::quantize_activation_row), one row per
// token: q [n_tokens, n_cols], d and bias [n_tokens, n_blocks] with bias = bias_scale·Σ_j q[t, b, j]
// (it undoes the offset of unsigned weight levels: −8 for Q4_0's 0..15, −128 for Q8_0 levels stored + 128).
struct ActQ8 {
  const int8_t* q;
  const float* d;
  const int32_t* bias;
  int64_t n_blocks;
};
// Bias scale the kernels of an instruction set expect for a weight type.
inline constexpr int32_t kBiasQ4_0 = -8;
inline constexpr int32_t kBiasQ8_0Unsigned = -128;

// Rows per prefill tile and the bytes of scratch one tile needs (its weights repacked).
inline constexpr int64_t kTileRowsAvx2 = 16;
inline constexpr int64_t kTileRowsAvx512 = 32;
inline constexpr int64_t tile_scratch_bytes(int64_t tile_rows, int64_t n_cols) {
  return tile_rows * (n_cols / kQuantBlock) * (kQuantBlock + 4) + 64;
}
// Q8_0 / Q4_0 gemv: rows computed together (one per float lane of a 256-bit vector).
inline constexpr int kGemvRows = 8;
// Float weights: rows per block of the many-token path (a block's weights stay in L2 while every token
// group passes over them).
inline constexpr int64_t kFloatBlockRows = 64;

#define LMAAS_QUANT_ISA_ENTRY_POINTS                                                                      \
  /* Activation rows [t0, t1) of x [*, n_cols] -> q, d, bias (arrays indexed from token 0). */             \
  void quantize_activations(const float* x, int64_t n_cols, int64_t t0, int64_t t1, int32_t bias_scale,   \
                            int8_t* q, float* d, int32_t* bias);                                          \
  /* Q8_0 / Q4_0, few tokens: y rows [r0, r1) for every token, reading W once. */                         \
  void gemv(const Problem& p, const ActQ8& act, int64_t r0, int64_t r1);                                  \
  /* Q8_0 / Q4_0, many tokens: y rows [r0, r1) (r0 a multiple of the tile rows), tile by tile. */         \
  void tiles(const Problem& p, const ActQ8& act, int64_t r0, int64_t r1, uint8_t* scratch);               \
  /* F32 / F16 / BF16, any number of tokens: y rows [r0, r1) for every token. */                          \
  void float_rows(const Problem& p, int64_t r0, int64_t r1);

namespace avx2 {
LMAAS_QUANT_ISA_ENTRY_POINTS
}
namespace avx512 {
LMAAS_QUANT_ISA_ENTRY_POINTS
}

#undef LMAAS_QUANT_ISA_ENTRY_POINTS

}  // namespace lmaas::kernels::cpu::quant_isa
