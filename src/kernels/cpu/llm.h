// Fast float32 kernels of decoder-only language models, same contracts as kernels/ref/llm.h (read those
// for the math). AVX2/FMA; callers use them only when cpu_supports_avx2(). Single-threaded: the model
// spreads tokens and heads over the pool. Each output depends only on its own inputs (no blocking
// across tokens), so a token's result is the same whatever else shares its batch.
#pragma once

#include <cstdint>

#include "kernels/cpu/quant.h"
#include "kernels/ref/llm.h"

namespace lmaas::kernels::cpu {

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps);
// ref::rope_apply in 8 lanes (fused multiply-adds, so within rounding of the reference).
void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos_v, const float* sin_v,
                ref::RopeStyle style);
void swiglu(const float* gate, const float* up, float* out, int64_t n);
// ref::attend_one_head with float accumulation in 8 lanes (head_dim a multiple of 8 or not), over a cache
// of float32 or of IEEE half entries.
// Memory: one head's rows end well before the next head's begin (a cache slot's capacity exceeds its
// length), and the hardware prefetcher loses every such stream at its start, which makes attention wait
// on memory latency rather than bandwidth. So the values are fetched into L2 while the keys are read, and
// `next_keys` (the first n_next_keys rows, same stride, of the head the caller attends next; null: none)
// while the values are read.
// `isa`: kAvx512 or kAmx (the default where the machine has it) scores 16 keys at a time in 16 lanes; anything
// else runs the AVX2 passes. Both are within float rounding of the reference, and each gives a head the same
// result whatever else runs.
void attend_one_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out, const float* next_keys = nullptr,
                     int64_t n_next_keys = 0, QuantIsa isa = best_quant_isa());
void attend_one_head(const float* q, const uint16_t* k, const uint16_t* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out, const uint16_t* next_keys = nullptr,
                     int64_t n_next_keys = 0, QuantIsa isa = best_quant_isa());
// ref::attend_one_head_q8_0: a cache of Q8_0 rows (head_dim a multiple of 32; rows contiguous).
void attend_one_head(const float* q, const BlockQ8_0* k, const BlockQ8_0* v, int64_t n_keys, int64_t head_dim,
                     float scale, float* scores, float* out, const BlockQ8_0* next_keys = nullptr,
                     int64_t n_next_keys = 0);
// The bytes of ref::quantize_row_q8_0 (n a multiple of 32): a key or value row stored in a Q8_0 cache.
void quantize_row_q8_0(const float* x, BlockQ8_0* out, int64_t n);
// y[i] = the IEEE half nearest x[i] (ties to even), as ref::f32_to_fp16.
void floats_to_halves(const float* x, uint16_t* y, int64_t n);
// y[i] = exp((x[i] - shift)·scale) for n floats (a softmax's weights over a vocabulary).
void scaled_exp(const float* x, int64_t n, float shift, float scale, float* y);
// The largest of n ≥ 1 floats (NaN-free input).
float max_value(const float* x, int64_t n);

}  // namespace lmaas::kernels::cpu
