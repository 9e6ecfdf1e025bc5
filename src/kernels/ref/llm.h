// Reference kernels of decoder-only language models (LLaMA family): RMSNorm, rotary position embedding,
// SwiGLU and attention of one query over a sequence's cached keys and values. Plain loops, float32 in and
// out with double accumulation where a sum runs long; the fast versions in kernels/cpu/llm.h match them.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/quant_types.h"
#include "kernels/ref/quant.h"

namespace lmaas::kernels::ref {

// y[n] = x[n] / sqrt(mean(x²) + eps) · weight[n]. x and y may be the same buffer.
inline void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * weight[i];
}

// How rotary embedding pairs the dimensions of a head: adjacent pairs (2i, 2i+1) as llama2.c and GGUF
// "llama" files store q/k; or the two halves (i, i + d/2) as Hugging Face checkpoints ("NeoX" style).
enum class RopeStyle : uint8_t { kAdjacentPairs, kHalves };

// The unscaled angular frequency of rotated pair i < head_dim/2: theta^(−2i/head_dim).
inline double rope_inv_freq(int64_t i, int64_t head_dim, double theta) {
  return std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
}

// The rotation of one position: cos and sin of pos · freq_scale · rope_inv_freq(i) / freq_factors[i],
// i < head_dim/2 (freq_factors: per-pair divisors, as Llama 3's RoPE scaling; null = none), both times
// mscale (YaRN's attention temperature; 1 otherwise).
inline void rope_cos_sin(int64_t pos, int64_t head_dim, float theta, float freq_scale, const float* freq_factors,
                         float* cos_out, float* sin_out, float mscale = 1.0f) {
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    double inv_freq = rope_inv_freq(i, head_dim, theta);
    if (freq_factors != nullptr) inv_freq /= freq_factors[i];
    const auto angle = static_cast<float>(static_cast<double>(pos) * freq_scale * inv_freq);
    cos_out[i] = std::cos(angle) * mscale;
    sin_out[i] = std::sin(angle) * mscale;
  }
}

// Llama 3.1's RoPE scaling (Hugging Face's rope_type "llama3"): pairs whose wavelength 2π/inv_freq is
// shorter than original_context / high_freq_factor keep their frequency, those longer than
// original_context / low_freq_factor are slowed down by `factor`, and those between interpolate smoothly
// (in inverse frequency) from one to the other. Only the ratios original_context / low_freq_factor and
// original_context / high_freq_factor matter.
struct Llama3Scaling {
  double factor = 1.0;  // 1: none
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  double original_context = 0.0;
};

// Llama 3.1's scaling as per-pair frequency divisors (rope_cos_sin's freq_factors), for head_dim / 2 pairs.
inline void llama3_freq_divisors(int64_t head_dim, double theta, const Llama3Scaling& s, float* divisors) {
  const double low_freq_wavelength = s.original_context / s.low_freq_factor;
  const double high_freq_wavelength = s.original_context / s.high_freq_factor;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double wavelength = 2.0 * M_PI / rope_inv_freq(i, head_dim, theta);
    double divisor = 1.0;
    if (wavelength > low_freq_wavelength) {
      divisor = s.factor;
    } else if (wavelength >= high_freq_wavelength) {
      const double smooth = (s.original_context / wavelength - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      divisor = 1.0 / ((1.0 - smooth) / s.factor + smooth);
    }
    divisors[i] = static_cast<float>(divisor);
  }
}

// YaRN RoPE scaling (Peng et al. 2023; Hugging Face's rope_type "yarn", llama.cpp's rope.scaling.type yarn)
// over a context `factor` times the original one. Pairs that turn more than beta_fast times over the
// original context keep their frequency, pairs that turn fewer than beta_slow times are slowed down by
// `factor`, and the pairs between blend linearly.
struct YarnScaling {
  double factor = 1.0;
  double original_context = 0.0;
  double beta_fast = 32.0, beta_slow = 1.0;
};

// The rotated pair whose frequency turns `rotations` times over the original context (fractional).
inline double yarn_correction_pair(double rotations, int64_t head_dim, double theta, double original_context) {
  return static_cast<double>(head_dim) * std::log(original_context / (rotations * 2.0 * M_PI)) / (2.0 * std::log(theta));
}

// YaRN as per-pair frequency divisors (rope_cos_sin's freq_factors), for head_dim / 2 pairs.
inline void yarn_freq_divisors(int64_t head_dim, double theta, const YarnScaling& y, float* divisors) {
  const double low = std::max(0.0, std::floor(yarn_correction_pair(y.beta_fast, head_dim, theta, y.original_context)));
  const double high = std::min(static_cast<double>(head_dim - 1),
                               std::ceil(yarn_correction_pair(y.beta_slow, head_dim, theta, y.original_context)));
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double ramp = std::clamp((static_cast<double>(i) - low) / std::max(0.001, high - low), 0.0, 1.0);
    const double extrapolation = 1.0 - ramp;  // 1: the original frequency, 0: slowed down by `factor`
    divisors[i] = static_cast<float>(1.0 / ((1.0 - extrapolation) / y.factor + extrapolation));
  }
}

// YaRN's attention temperature for a context `factor` times longer (cos and sin are scaled by it);
// `mscale` weighs the logarithm (DeepSeek-style configurations give two and take their ratio).
inline double yarn_mscale(double factor, double mscale = 1.0) {
  return factor <= 1.0 ? 1.0 : 0.1 * mscale * std::log(factor) + 1.0;
}

// Rotates n_heads heads of head_dim values in place, x[n_heads, head_dim], by one position's cos/sin.
inline void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos_v, const float* sin_v,
                       RopeStyle style) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const int64_t a = style == RopeStyle::kAdjacentPairs ? 2 * i : i;
      const int64_t b = style == RopeStyle::kAdjacentPairs ? 2 * i + 1 : i + half;
      const float x0 = xh[a];
      const float x1 = xh[b];
      xh[a] = x0 * cos_v[i] - x1 * sin_v[i];
      xh[b] = x0 * sin_v[i] + x1 * cos_v[i];
    }
  }
}

// out[n] = silu(gate[n]) · up[n], silu(g) = g / (1 + e^−g). out may alias gate or up.
inline void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// A cached key/value entry as float: float32 as it is, or an IEEE half (uint16_t).
inline float kv_entry(const float* p) { return *p; }
inline float kv_entry(const uint16_t* p) { return fp16_to_f32(*p); }

// One query head attending to the first n_keys cached positions of its key/value head:
//   out[d] = Σ_j softmax_j(q·k_j · scale) · v_j[d].
// k and v rows (float or half entries) are `row_stride` entries apart; scores is scratch of n_keys floats.
template <typename Entry>
inline void attend_one_head(const float* q, const Entry* k, const Entry* v, int64_t row_stride, int64_t n_keys,
                            int64_t head_dim, float scale, float* scores, float* out) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n_keys; ++j) {
    double dot = 0.0;
    for (int64_t d = 0; d < head_dim; ++d) dot += static_cast<double>(q[d]) * kv_entry(k + j * row_stride + d);
    scores[j] = static_cast<float>(dot) * scale;
    max_score = std::max(max_score, scores[j]);
  }
  double sum = 0.0;
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    sum += scores[j];
  }
  for (int64_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = static_cast<float>(scores[j] / sum);
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * kv_entry(v + j * row_stride + d);
  }
}

// The same over a cache of Q8_0 rows (head_dim / 32 blocks each, rows contiguous): every row dequantized as
// dequantize_row does, then the float version above.
inline void attend_one_head_q8_0(const float* q, const BlockQ8_0* k, const BlockQ8_0* v, int64_t n_keys,
                                 int64_t head_dim, float scale, float* scores, float* out) {
  const int64_t row_blocks = head_dim / kQuantBlock;
  std::vector<float> kf(static_cast<size_t>(n_keys * head_dim)), vf(kf.size());
  for (int64_t j = 0; j < n_keys; ++j) {
    dequantize_row_q8_0(k + j * row_blocks, kf.data() + j * head_dim, head_dim);
    dequantize_row_q8_0(v + j * row_blocks, vf.data() + j * head_dim, head_dim);
  }
  attend_one_head(q, kf.data(), vf.data(), head_dim, n_keys, head_dim, scale, scores, out);
}

}  // namespace lmaas::kernels::ref
