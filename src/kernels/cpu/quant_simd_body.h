// Internal: the parts of the quantized matmul shared by the AVX2 and AVX-512 files (AVX2 + FMA + F16C
// level code). Each of quant_avx2.cpp / quant_avx512.cpp includes it inside its own namespace, after
// <immintrin.h> and after defining
//   __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)  // acc + Σ of each 4 adjacent u8·s8 products
// so every function here is compiled once per instruction set under a distinct name (no inline function is
// shared between files built with different -m flags). Not a standalone header: no includes, no guard.
//
// Per-row arithmetic never depends on which rows or tokens share a call: every (row, token) pair has its
// own accumulator and the same sequence of operations, so results do not depend on how rows are split.

namespace {

constexpr int64_t kBlock = 32;
constexpr int64_t kPrefetchBytes = 1024;  // gemv: how far ahead in each weight row to prefetch

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline int32_t load_i32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

// One block of 32 floats -> 32 int8 (ref::quantize_activation_row); returns Σ q.
inline int32_t quantize_block(const float* x, int8_t* q, float* d) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(x + 8 * i);
  const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v[0]), _mm256_andnot_ps(sign, v[1])),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v[2]), _mm256_andnot_ps(sign, v[3])));
  *d = hmax(m) / 127.0f;
  const __m256 id = _mm256_set1_ps(*d != 0.0f ? 1.0f / *d : 0.0f);
  __m256i i[4];
  for (int k = 0; k < 4; ++k) i[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], id));  // nearest even
  const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q),
                      _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  return hsum_i32(_mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3])));
}

// ---- gemv: W streamed once, row by row, NT tokens at a time ---------------------------------------------

// Float weights widened 8 at a time.
inline __m256 load8(WeightType type, const uint8_t* row, int64_t c) {
  if (type == WeightType::kF16)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  if (type == WeightType::kBF16)
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c))), 16));
  return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
}

inline float load1(WeightType type, const uint8_t* row, int64_t c) {
  uint16_t h = 0;
  if (type == WeightType::kF32) return reinterpret_cast<const float*>(row)[c];
  __builtin_memcpy(&h, row + 2 * c, 2);
  if (type == WeightType::kF16) return half_to_float(h);
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

// One row at a time (several interleaved row streams read from memory at half the speed of one), with
// two accumulator chains per token (even and odd steps) so the FMA latency is hidden.
template <int NT>
void gemv_float_row(const Problem& p, int64_t r) {
  const uint8_t* row = p.w + r * p.row_bytes;
  const int64_t elem_bytes = p.type == WeightType::kF32 ? 4 : 2;
  __m256 acc[2][NT];
  for (int t = 0; t < NT; ++t) acc[0][t] = acc[1][t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= p.n_cols; c += 16) {
    _mm_prefetch(reinterpret_cast<const char*>(row) + c * elem_bytes + kPrefetchBytes, _MM_HINT_T0);
    for (int h = 0; h < 2; ++h) {
      const __m256 w = load8(p.type, row, c + 8 * h);
      for (int t = 0; t < NT; ++t)
        acc[h][t] = _mm256_fmadd_ps(w, _mm256_loadu_ps(p.x + t * p.n_cols + c + 8 * h), acc[h][t]);
    }
  }
  if (c + 8 <= p.n_cols) {
    const __m256 w = load8(p.type, row, c);
    for (int t = 0; t < NT; ++t) acc[0][t] = _mm256_fmadd_ps(w, _mm256_loadu_ps(p.x + t * p.n_cols + c), acc[0][t]);
    c += 8;
  }
  for (int t = 0; t < NT; ++t) {
    float s = hsum(_mm256_add_ps(acc[0][t], acc[1][t]));
    for (int64_t cc = c; cc < p.n_cols; ++cc) s += load1(p.type, row, cc) * p.x[t * p.n_cols + cc];
    p.y[t * p.ldy + r] = s;
  }
}

// acc += the block's products for NT tokens. Q8_0: |w| as unsigned, the sign moved onto the activations.
template <int NT>
inline void gemv_q8_0_block(const BlockQ8_0* blk, const ActQ8& a, int64_t n_cols, int64_t b, __m256* acc) {
  _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
  const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qs));
  const __m256i aw = _mm256_abs_epi8(w);
  const __m256 dw = _mm256_cvtph_ps(_mm_set1_epi16(static_cast<int16_t>(blk->d)));  // broadcast, widened
  for (int t = 0; t < NT; ++t) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + t * n_cols + b * kBlock));
    const __m256i s = dot_u8s8(_mm256_setzero_si256(), aw, _mm256_sign_epi8(xq, w));
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a.d[t * a.n_blocks + b])), acc[t]);
  }
}

// Q4_0: levels 0..15 as unsigned; the −8 offset comes back through the activations' bias.
template <int NT>
inline void gemv_q4_0_block(const BlockQ4_0* blk, const ActQ8& a, int64_t n_cols, int64_t b, __m256* acc) {
  _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->qs));
  const __m256i w = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low4), _mm_and_si128(packed, low4));
  const __m256 dw = _mm256_cvtph_ps(_mm_set1_epi16(static_cast<int16_t>(blk->d)));  // broadcast, widened
  for (int t = 0; t < NT; ++t) {
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.q + t * n_cols + b * kBlock));
    const __m256i bias = _mm256_setr_epi32(a.bias[t * a.n_blocks + b], 0, 0, 0, 0, 0, 0, 0);
    const __m256i s = dot_u8s8(bias, w, xq);
    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a.d[t * a.n_blocks + b])), acc[t]);
  }
}

// One quantized row: even blocks into acc0, odd blocks into acc1.
template <typename Block, int NT, typename StepFn>
void gemv_quant_row(const Problem& p, const ActQ8& a, int64_t r, StepFn step) {
  const auto* row = reinterpret_cast<const Block*>(p.w + r * p.row_bytes);
  __m256 acc0[NT], acc1[NT];
  for (int t = 0; t < NT; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= a.n_blocks; b += 2) {
    step(row + b, a, p.n_cols, b, acc0);
    step(row + b + 1, a, p.n_cols, b + 1, acc1);
  }
  if (b < a.n_blocks) step(row + b, a, p.n_cols, b, acc0);
  for (int t = 0; t < NT; ++t) p.y[t * p.ldy + r] = hsum(_mm256_add_ps(acc0[t], acc1[t]));
}

template <int NT>
void gemv_tokens(const Problem& p, const ActQ8* a, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    if (p.type == WeightType::kQ8_0) gemv_quant_row<BlockQ8_0, NT>(p, *a, r, gemv_q8_0_block<NT>);
    else if (p.type == WeightType::kQ4_0) gemv_quant_row<BlockQ4_0, NT>(p, *a, r, gemv_q4_0_block<NT>);
    else gemv_float_row<NT>(p, r);
  }
}

// ---- tiles: rows repacked so that one vector holds 4 levels of each of L rows -------------------------

// Bytes of one block of an L-row group as repack_tile lays it out.
constexpr int64_t group_block_bytes(int lanes) { return (kBlock + 4) * lanes; }

// Repacks rows [r0, r0 + L·n_groups) (those ≥ n_rows as zeros) into groups of L rows. Group g, block b
// lives at out + (g·n_blocks + b)·36·L: float d[L], then levels [8][L][4] (4 consecutive levels of a row
// per k-step). Levels: Q4_0 0..15; Q8_0 q + 128 as u8 when q8_offset, else q as i8.
template <int L>
void repack_tile(const Problem& p, int64_t r0, int64_t n_rows, int n_groups, bool q8_offset, uint8_t* out) {
  const int64_t n_blocks = p.n_cols / kBlock;
  const uint64_t low4 = 0x0f0f0f0f0f0f0f0full;
  for (int g = 0; g < n_groups; ++g) {
    for (int i = 0; i < L; ++i) {
      const int64_t r = r0 + g * L + i;
      const uint8_t* row = p.w + r * p.row_bytes;
      for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* dst = out + (g * n_blocks + b) * group_block_bytes(L);
        float d = 0.0f;
        uint32_t lv[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (r < n_rows && p.type == WeightType::kQ8_0) {
          const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
          d = half_to_float(blk->d);
          __builtin_memcpy(lv, blk->qs, sizeof(lv));
          if (q8_offset)
            for (uint32_t& v : lv) v ^= 0x80808080u;
        } else if (r < n_rows) {
          const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
          d = half_to_float(blk->d);
          uint64_t h[2];
          __builtin_memcpy(h, blk->qs, sizeof(h));
          const uint64_t e[4] = {h[0] & low4, h[1] & low4, (h[0] >> 4) & low4, (h[1] >> 4) & low4};
          __builtin_memcpy(lv, e, sizeof(lv));
        }
        __builtin_memcpy(dst + 4 * i, &d, 4);
        for (int k = 0; k < 8; ++k) __builtin_memcpy(dst + 4 * L + (k * L + i) * 4, &lv[k], 4);
      }
    }
  }
}

// Stores the first n of 8 floats.
inline void store_first(float* y, __m256 v, int64_t n) {
  if (n >= 8) return _mm256_storeu_ps(y, v);
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t i = 0; i < n; ++i) y[i] = tmp[i];
}

}  // namespace

void quantize_activations(const float* x, int64_t n_cols, int64_t t0, int64_t t1, int32_t bias_scale, int8_t* q,
                          float* d, int32_t* bias) {
  const int64_t n_blocks = n_cols / kBlock;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const int64_t i = t * n_blocks + b;
      bias[i] = bias_scale * quantize_block(x + t * n_cols + b * kBlock, q + t * n_cols + b * kBlock, d + i);
    }
  }
}

void gemv(const Problem& p, const ActQ8* act, int64_t r0, int64_t r1) {
  for (int64_t t = 0; t < p.n_tokens; t += 3) {
    Problem pt = p;
    pt.x += t * p.n_cols;
    pt.y += t * p.ldy;
    ActQ8 at = act ? *act : ActQ8{};
    if (act) {
      at.q += t * p.n_cols;
      at.d += t * act->n_blocks;
      at.bias += t * act->n_blocks;
    }
    const ActQ8* a = act ? &at : nullptr;
    const int64_t n = p.n_tokens - t;
    if (n >= 3) gemv_tokens<3>(pt, a, r0, r1);
    else if (n == 2) gemv_tokens<2>(pt, a, r0, r1);
    else gemv_tokens<1>(pt, a, r0, r1);
  }
}

void widen_rows(const Problem& p, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint8_t* row = p.w + r * p.row_bytes;
    float* o = out + (r - r0) * p.n_cols;
    int64_t c = 0;
    for (; c + 8 <= p.n_cols; c += 8) _mm256_storeu_ps(o + c, load8(p.type, row, c));
    for (; c < p.n_cols; ++c) o[c] = load1(p.type, row, c);
  }
}
