// Reference weight quantization, dequantization and matrix products for the layouts of
// kernels/quant_types.h. Naive and obviously right; the fast paths are in kernels/cpu/quant.h.
// - quantize_row writes the same bytes as ggml's reference quantizers (what llama.cpp's llama-quantize
//   writes without an importance matrix), for finite inputs:
//     Q8_0: d = amax/127, id = 1/d (0 when d is 0), q = roundf(x·id)  (ties away from zero)
//     Q4_0: max = the element of largest |x| (the first one on ties), keeping its sign; d = max/−8,
//           id = 1/d (0 when d is 0), q = min(15, trunc(x·id + 8.5))
//   all in float arithmetic; the stored scale is binary16(d) while q uses the unrounded id.
//   Non-finite inputs give unspecified (but defined) bytes.
// - matmul: y[t, r] = Σ_c W[r, c]·x[t, c] with W dequantized exactly, accumulated in double.
// - The fused fast kernels for Q8_0/Q4_0 first quantize each activation row to 8 bits in blocks of 32
//   (quantize_activation_row: d = amax/127 kept as float, q = round-to-nearest-even(x·(1/d))) and take
//   integer block dot products; matmul_q8_activations computes exactly that sum (in double), so a fast
//   kernel must match it to float-accumulation accuracy, while its distance to matmul is bounded by the
//   activation rounding: |Δy[t, r]| ≤ Σ_b (d_x[t, b]/2)·Σ_{c in b} |W[r, c]|.
// n (the row length) is a multiple of block_size(type) everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/quant_types.h"

namespace lmaas::kernels::ref {

inline void quantize_row_q8_0(const float* x, BlockQ8_0* out, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f;
    for (int64_t j = 0; j < kQuantBlock; ++j) amax = std::fabs(xb[j]) > amax ? std::fabs(xb[j]) : amax;
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_fp16(d);
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      const float q = std::round(xb[j] * id);
      out[b].qs[j] = static_cast<int8_t>(q >= -127.0f && q <= 127.0f ? q : 0.0f);  // NaN -> 0
    }
  }
}

inline void quantize_row_q4_0(const float* x, BlockQ4_0* out, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0.0f, max = 0.0f;
    for (int64_t j = 0; j < kQuantBlock; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_fp16(d);
    auto level = [id](float v) {
      const float t = std::trunc(v * id + 8.5f);
      return static_cast<uint8_t>(t >= 0.0f && t <= 15.0f ? t : (t > 15.0f ? 15.0f : 0.0f));  // NaN -> 0
    };
    for (int64_t j = 0; j < kQuantBlock / 2; ++j)
      out[b].qs[j] = static_cast<uint8_t>(level(xb[j]) | (level(xb[j + kQuantBlock / 2]) << 4));
  }
}

inline void dequantize_row_q8_0(const BlockQ8_0* w, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float d = fp16_to_f32(w[b].d);
    for (int64_t j = 0; j < kQuantBlock; ++j) y[b * kQuantBlock + j] = static_cast<float>(w[b].qs[j]) * d;
  }
}

inline void dequantize_row_q4_0(const BlockQ4_0* w, float* y, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float d = fp16_to_f32(w[b].d);
    for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
      y[b * kQuantBlock + j] = static_cast<float>((w[b].qs[j] & 0x0f) - 8) * d;
      y[b * kQuantBlock + j + kQuantBlock / 2] = static_cast<float>((w[b].qs[j] >> 4) - 8) * d;
    }
  }
}

// f32 x[n] -> one row of `type` at out (row_bytes(type, n) bytes).
inline void quantize_row(WeightType type, const float* x, void* out, int64_t n) {
  switch (type) {
    case WeightType::kF32: std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float)); return;
    case WeightType::kF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(out)[i] = f32_to_fp16(x[i]);
      return;
    case WeightType::kBF16:
      for (int64_t i = 0; i < n; ++i) static_cast<uint16_t*>(out)[i] = f32_to_bf16(x[i]);
      return;
    case WeightType::kQ8_0: quantize_row_q8_0(x, static_cast<BlockQ8_0*>(out), n); return;
    case WeightType::kQ4_0: quantize_row_q4_0(x, static_cast<BlockQ4_0*>(out), n); return;
  }
}

// One row of `type` at w -> f32 y[n].
inline void dequantize_row(WeightType type, const void* w, float* y, int64_t n) {
  switch (type) {
    case WeightType::kF32: std::memcpy(y, w, static_cast<size_t>(n) * sizeof(float)); return;
    case WeightType::kF16:
      for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(static_cast<const uint16_t*>(w)[i]);
      return;
    case WeightType::kBF16:
      for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(static_cast<const uint16_t*>(w)[i]);
      return;
    case WeightType::kQ8_0: dequantize_row_q8_0(static_cast<const BlockQ8_0*>(w), y, n); return;
    case WeightType::kQ4_0: dequantize_row_q4_0(static_cast<const BlockQ4_0*>(w), y, n); return;
  }
}

// Σ_c dequantize(w)[c]·x[c], in double.
inline double dot_row(WeightType type, const void* w, const float* x, int64_t n) {
  std::vector<float> row(static_cast<size_t>(n));
  dequantize_row(type, w, row.data(), n);
  double acc = 0.0;
  for (int64_t c = 0; c < n; ++c) acc += static_cast<double>(row[c]) * x[c];
  return acc;
}

// y[t, r] = Σ_c W[r, c]·x[t, c]; W [n_rows] rows of row_bytes(type, n_cols); x [n_tokens, n_cols];
// y [n_tokens, ldy].
inline void matmul(WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x, int64_t n_tokens,
                   float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t t = 0; t < n_tokens; ++t)
      y[t * ldy + r] = static_cast<float>(dot_row(type, wb + r * row_bytes(type, n_cols), x + t * n_cols, n_cols));
}

// Activation quantization of the fused kernels: per block of 32, d[b] = amax/127 (float), q = x·(1/d)
// rounded to nearest even (0 for an all-zero block).
inline void quantize_activation_row(const float* x, int8_t* q, float* d, int64_t n) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    float amax = 0.0f;
    for (int64_t j = 0; j < kQuantBlock; ++j) amax = std::fmax(amax, std::fabs(x[b * kQuantBlock + j]));
    d[b] = amax / 127.0f;
    const float id = d[b] != 0.0f ? 1.0f / d[b] : 0.0f;
    for (int64_t j = 0; j < kQuantBlock; ++j)
      q[b * kQuantBlock + j] = static_cast<int8_t>(std::nearbyint(x[b * kQuantBlock + j] * id));
  }
}

// What the fused Q8_0/Q4_0 kernels compute: Σ_b d_w[r, b]·d_x[t, b]·Σ_j q_w[r, b, j]·q_x[t, b, j] with
// q_w the signed weight levels (q for Q8_0, q − 8 for Q4_0), in double.
inline void matmul_q8_activations(WeightType type, const void* w, int64_t n_rows, int64_t n_cols, const float* x,
                                  int64_t n_tokens, float* y, int64_t ldy) {
  const int64_t n_blocks = n_cols / kQuantBlock;
  std::vector<int8_t> qx(static_cast<size_t>(n_cols));
  std::vector<float> dx(static_cast<size_t>(n_blocks));
  for (int64_t t = 0; t < n_tokens; ++t) {
    quantize_activation_row(x + t * n_cols, qx.data(), dx.data(), n_cols);
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint8_t* row = static_cast<const uint8_t*>(w) + r * row_bytes(type, n_cols);
      double acc = 0.0;
      for (int64_t b = 0; b < n_blocks; ++b) {
        int32_t sum = 0;
        float dw = 0.0f;
        if (type == WeightType::kQ8_0) {
          const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
          dw = fp16_to_f32(blk->d);
          for (int64_t j = 0; j < kQuantBlock; ++j) sum += blk->qs[j] * qx[b * kQuantBlock + j];
        } else {
          const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
          dw = fp16_to_f32(blk->d);
          for (int64_t j = 0; j < kQuantBlock / 2; ++j) {
            sum += ((blk->qs[j] & 0x0f) - 8) * qx[b * kQuantBlock + j];
            sum += ((blk->qs[j] >> 4) - 8) * qx[b * kQuantBlock + j + kQuantBlock / 2];
          }
        }
        acc += static_cast<double>(dw) * dx[b] * sum;
      }
      y[t * ldy + r] = static_cast<float>(acc);
    }
  }
}

}  // namespace lmaas::kernels::ref
