// Fast matrix products with weights stored in the layouts of kernels/quant_types.h (the projections of
// a language model): y[t, r] = Σ_c W[r, c]·x[t, c]. The math is ref::matmul (kernels/ref/quant.h) except:
// - Q8_0 / Q4_0: the activations are quantized to 8 bits in blocks of 32 first (as llama.cpp does) and
//   the block products are integer; the result is ref::matmul_q8_activations up to float accumulation,
//   and within Σ_b (d_x[t, b]/2)·Σ_{c in b} |W[r, c]| of the exact product, i.e. a relative error of a
//   few 1e-3 for typical activations.
// - F32 / F16 / BF16: weights are widened to float exactly and accumulated in float (FMA); error is
//   float accumulation only.
// Batch invariance: for a given instruction set, y[t, :] is a pure function of (W, x[t, :]): bit-identical
// whatever n_tokens is, whichever other tokens share the call and whatever the thread count. Each weight
// type has one canonical per-row order of float operations that every path implements exactly:
//   Q8_0 / Q4_0  per block b in order: s_b = the exact integer block product, acc = fma(float(s_b),
//                d_w[b]·d_x[b], acc); y = acc (one accumulator per row and token);
//   floats       columns in steps of 16 split over two 8-lane FMA accumulators, a leftover 8 into the
//                first, hsum(acc0 + acc1), then the last < 8 columns in order (quant_simd_body.h).
// The instruction set is chosen at run time: AVX-512 (F, BW, DQ, VL and VNNI) when present, else AVX2
// with FMA and F16C, else a portable loop over the reference. Paths (quant_matmul.cpp):
//   Q8_0/Q4_0                groups of 16 rows packed so one vector holds 4 levels of each row (quant_isa.h),
//                            times every token with vpdpbusd (AVX-512 VNNI) or maddubs/madd; W packed once
//                            (PackedQuantMatrix, as models do) or a group at a time within the call; few
//                            tokens give each thread a few contiguous ranges of groups (W streamed once)
//   floats, any n_tokens     one row at a time (few tokens) or blocks of rows × tokens × columns (many),
//                            all with the canonical order
// Rows go to the global ThreadPool in fixed pieces and each row's arithmetic does not depend on the split.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <span>

#include "kernels/quant_types.h"

namespace lmaas::kernels::cpu {

// y[t, r] = Σ_c W[r, c]·x[t, c] for r in [0, n_rows), t in [0, n_tokens). W: n_rows rows of
// row_bytes(type, n_cols) bytes (n_cols a multiple of block_size(type); no alignment needed); x f32
// [n_tokens, n_cols] contiguous; y f32 [n_tokens, ldy] with ldy ≥ n_rows (columns ≥ n_rows untouched).
// Each group of W is read once per call and reused across all tokens.
void matmul(WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x, int64_t n_tokens,
            float* y, int64_t ldy);

// A Q8_0 / Q4_0 matrix packed once for the group kernels, so that no call repacks it: the same bytes as the
// stored matrix (same size), rows in groups of 16 with 4 levels of each row side by side. A model keeps one
// per quantized projection; its matmuls give bit-identical results to matmul() on the stored matrix.
struct PackedQuantMatrix {
  WeightType type = WeightType::kQ8_0;
  int64_t n_rows = 0, n_cols = 0;
  std::vector<uint8_t> bytes;
};
// nullptr when `type` is not Q8_0/Q4_0 or the CPU has neither AVX2 nor AVX-512 (matmul then reads W as stored).
std::shared_ptr<const PackedQuantMatrix> pack_quant_matrix(WeightType type, const void* w, int64_t n_rows,
                                                           int64_t n_cols);
// matmul() with packed weights: y[t, r] = Σ_c W[r, c]·x[t, c], y [n_tokens, ldy].
void matmul_packed(const PackedQuantMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t ldy);
// matmul_packed of several matrices over the same x (a layer's query/key/value, or gate/up projections):
// x is quantized once per weight type and all the matrices' row groups share one run of the pool. Each y
// gets exactly the values matmul_packed would give it.
struct PackedProduct {
  const PackedQuantMatrix* w;
  float* y;
  int64_t ldy;
};
void matmul_packed_shared(std::span<const PackedProduct> products, const float* x, int64_t n_tokens);

// One row of `type` -> f32 y[n] (embedding lookups), on the calling thread.
void dequantize_row(WeightType type, const void* w, float* y, int64_t n);

// The instruction-set paths, for tests and benchmarks: matmul_isa runs one path (which must be
// supported: see quant_isa_supported); matmul uses best_quant_isa(). kAmx is kAvx512 with AMX-INT8 tile
// products for packed Q8_0 / Q4_0 over more than 3 tokens, bit-identical to kAvx512 (supported when the CPU
// has AMX-INT8, Linux grants the tile state, and LMAAS_CPU_NO_AMX is not set).
enum class QuantIsa { kRef, kAvx2, kAvx512, kAmx };
// Whether a path runs the AVX-512 kernels (kAvx512 and kAmx).
inline bool uses_avx512(QuantIsa isa) { return isa == QuantIsa::kAvx512 || isa == QuantIsa::kAmx; }
bool quant_isa_supported(QuantIsa isa);
QuantIsa best_quant_isa();
// "ref", "avx2", "avx512" or "amx" (benchmark output, test messages).
const char* quant_isa_name(QuantIsa isa);
void matmul_isa(QuantIsa isa, WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x,
                int64_t n_tokens, float* y, int64_t ldy);
void matmul_packed_isa(QuantIsa isa, const PackedQuantMatrix& w, const float* x, int64_t n_tokens, float* y,
                       int64_t ldy);  // isa: not kRef
void matmul_packed_shared_isa(QuantIsa isa, std::span<const PackedProduct> products, const float* x, int64_t n_tokens);

}  // namespace lmaas::kernels::cpu
