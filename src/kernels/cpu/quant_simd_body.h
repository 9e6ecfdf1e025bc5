// Internal: the parts of the quantized matmul shared by the AVX2 and AVX-512 files (AVX2 + FMA + F16C
// level code). Each of quant_avx2.cpp / quant_avx512.cpp includes it inside its own namespace, after
// <immintrin.h> and <utility> and after defining
//   int kFloatRows, kFloatMaxTokens  // float kernel block: rows × tokens
//   int kTileTokens                  // tokens per tile of the packed Q8_0 / Q4_0 kernels (quant_isa.h ActQ8)
// (quantize_activations takes its layout from the caller: the AMX kernels use the AVX-512 quantizer)
// so every function here is compiled once per instruction set under a distinct name (no inline function is
// shared between files built with different -m flags). Not a standalone header: no includes, no guard.
//
// Per-row arithmetic never depends on which rows or tokens share a call: every (row, token) pair has its
// own accumulator and the same sequence of operations, so results do not depend on how rows are split.

namespace {

constexpr int64_t kBlock = 32;
// How far ahead of its reads a pass that streams W from memory (few tokens) prefetches: a float row alone, or
// a range of packed Q8_0 / Q4_0 groups. The hardware prefetcher alone keeps too few lines in flight for one
// core to reach the memory's bandwidth; the distances are the measured best (docs/benchmarks.md, "Prefetch
// distance").
constexpr int64_t kFloatPrefetchBytes = 4096;
constexpr int64_t kPackedPrefetchBytes = 8192;

// Prefetches the cache lines of [p + distance, p + distance + bytes) into L1.
inline void prefetch_ahead(const uint8_t* p, int64_t distance, int64_t bytes) {
  for (int64_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + distance + off), _MM_HINT_T0);
}

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

// One token tile's activations (quant_isa.h ActQ8): the levels, scales and biases of the tile at t0.
struct Tile {
  const int8_t* q;
  const float* d;
  const int32_t* bias;
};

inline Tile tile_at(const PackedProblem& p, const ActQ8& a, int64_t t0) {
  return {a.q + t0 * p.n_cols, a.d + t0 * a.n_blocks, a.bias + t0 * a.n_blocks};
}

// Where block b's 8 words start in a tile of nt tokens (bytes from its q); word j of token u follows at
// (j·nt + u)·4.
inline int64_t tile_block_offset(int64_t b, int64_t nt) { return b * 8 * nt * 4; }

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

// Stores the first n of 8 floats.
inline void store_first(float* y, __m256 v, int64_t n) {
  if (n >= 8) return _mm256_storeu_ps(y, v);
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (int64_t i = 0; i < n; ++i) y[i] = tmp[i];
}

// ---- float weights -------------------------------------------------------------------------------------
// The canonical per-row order of the float paths: columns in steps of 16, the first 8 of each step FMA'd
// into accumulator 0 and the next 8 into accumulator 1 (8 lanes each); a leftover block of 8 into
// accumulator 0; then s = hsum(acc0 + acc1) and the last < 8 columns added to s in order. Every (row,
// token) pair runs exactly this sequence, whichever rows and tokens are computed beside it; many tokens
// split the columns into blocks (multiples of 16) and park the accumulators in between, which is exact.
// Per instruction set: kFloatRows rows × kFloatMaxTokens tokens per many-token kernel call.

template <WeightType kType>
inline __m256 load8(const uint8_t* row, int64_t c) {
  if constexpr (kType == WeightType::kF16)
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c)));
  if constexpr (kType == WeightType::kBF16)
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * c))), 16));
  return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + c);
}

template <WeightType kType>
inline float load1(const uint8_t* row, int64_t c) {
  if constexpr (kType == WeightType::kF32) return reinterpret_cast<const float*>(row)[c];
  uint16_t h;
  __builtin_memcpy(&h, row + 2 * c, 2);
  if constexpr (kType == WeightType::kF16) return half_to_float(h);
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

// Fully unrolled loops keep the accumulator arrays in registers.
#define LMAAS_UNROLL _Pragma("GCC unroll 32")

// Accumulators parked between column blocks: [row][token][2].
using FloatPart = __m256[2];

// After the columns before c of a column block [k0, k1) of rows [r, r + NR) × tokens [t0, t0 + NT): parks
// the accumulators in part[i·kFloatMaxTokens + t] when k1 is not the rows' end, else adds the leftover
// columns (a block of 8 into accumulator 0, then < 8 one by one) and writes y.
template <WeightType kType, int NR, int NT>
__attribute__((always_inline)) inline void float_block_finish(const Problem& p, const uint8_t* const* rows, int64_t r,
                                                              int64_t t0, int64_t c, int64_t k1,
                                                              __m256 (&acc)[2][NR][NT], FloatPart* part) {
  const int64_t n = p.n_cols;
  const float* x = p.x + t0 * n;
  if (k1 < n) {
    LMAAS_UNROLL
    for (int i = 0; i < NR; ++i)
      LMAAS_UNROLL
      for (int t = 0; t < NT; ++t)
        LMAAS_UNROLL
        for (int h = 0; h < 2; ++h) part[i * kFloatMaxTokens + t][h] = acc[h][i][t];
    return;
  }
  if (c + 8 <= n) {
    LMAAS_UNROLL
    for (int i = 0; i < NR; ++i) {
      const __m256 w = load8<kType>(rows[i], c);
      LMAAS_UNROLL
      for (int t = 0; t < NT; ++t) acc[0][i][t] = _mm256_fmadd_ps(w, _mm256_loadu_ps(x + t * n + c), acc[0][i][t]);
    }
    c += 8;
  }
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i) {
    LMAAS_UNROLL
    for (int t = 0; t < NT; ++t) {
      float s = hsum(_mm256_add_ps(acc[0][i][t], acc[1][i][t]));
      for (int64_t cc = c; cc < n; ++cc) s += load1<kType>(rows[i], cc) * x[t * n + cc];
      p.y[(t0 + t) * p.ldy + r + i] = s;
    }
  }
}

// Columns [k0, k1) of rows [r, r + NR) times tokens [t0, t0 + NT): accumulators start at zero (k0 == 0)
// or at part[i·kFloatMaxTokens + t]; y is written when k1 is the row's end, else they are parked again.
// One row alone (few tokens) prefetches W ahead.
template <WeightType kType, int NR, int NT>
void float_block(const Problem& p, int64_t r, int64_t t0, int64_t k0, int64_t k1, FloatPart* part) {
  constexpr int64_t kElemBytes = kType == WeightType::kF32 ? 4 : 2;
  const int64_t n = p.n_cols;
  const float* x = p.x + t0 * n;
  const uint8_t* rows[NR];
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i) rows[i] = p.w + (r + i) * p.row_bytes;
  __m256 acc[2][NR][NT];
  LMAAS_UNROLL
  for (int i = 0; i < NR; ++i)
    LMAAS_UNROLL
    for (int t = 0; t < NT; ++t)
      LMAAS_UNROLL
      for (int h = 0; h < 2; ++h) acc[h][i][t] = k0 == 0 ? _mm256_setzero_ps() : part[i * kFloatMaxTokens + t][h];
  int64_t c = k0;
  for (; c + 16 <= k1; c += 16) {
    if constexpr (NR == 1) prefetch_ahead(rows[0] + c * kElemBytes, kFloatPrefetchBytes, 16 * kElemBytes);
    LMAAS_UNROLL
    for (int h = 0; h < 2; ++h) {
      __m256 w[NR];
      LMAAS_UNROLL
      for (int i = 0; i < NR; ++i) w[i] = load8<kType>(rows[i], c + 8 * h);
      LMAAS_UNROLL
      for (int t = 0; t < NT; ++t) {
        const __m256 xv = _mm256_loadu_ps(x + t * n + c + 8 * h);
        LMAAS_UNROLL
        for (int i = 0; i < NR; ++i) acc[h][i][t] = _mm256_fmadd_ps(w[i], xv, acc[h][i][t]);
      }
    }
  }
  float_block_finish<kType, NR, NT>(p, rows, r, t0, c, k1, acc, part);
}

// The many-token kernel of kFloatRows rows × NT tokens: each instruction-set file defines it after
// including this file (float_block<kType, kFloatRows, NT>, or a wider one with the same arithmetic).
template <WeightType kType, int NT>
void float_block_many(const Problem& p, int64_t r, int64_t t0, int64_t k0, int64_t k1, FloatPart* part);

// Rows [r0, r1) × tokens [t0, t0 + NT), columns [k0, k1): kFloatRows rows at a time when many tokens
// share each weight load, else one row at a time (one stream from memory reads fastest).
template <WeightType kType, int NT>
void float_rows_tokens(const Problem& p, int64_t r0, int64_t r1, int64_t t0, int64_t k0, int64_t k1, FloatPart* part) {
  int64_t r = r0;
  if (p.n_tokens > kFewTokens)
    for (; r + kFloatRows <= r1; r += kFloatRows)
      float_block_many<kType, NT>(p, r, t0, k0, k1, part + (r - r0) * kFloatMaxTokens);
  for (; r < r1; ++r) float_block<kType, 1, NT>(p, r, t0, k0, k1, part + (r - r0) * kFloatMaxTokens);
}

template <WeightType kType, int... NT>
void float_rows_dispatch(int n, const Problem& p, int64_t r0, int64_t r1, int64_t t0, int64_t k0, int64_t k1,
                         FloatPart* part, std::integer_sequence<int, NT...>) {
  ((n == NT + 1 ? float_rows_tokens<kType, NT + 1>(p, r0, r1, t0, k0, k1, part) : void()), ...);
}

constexpr int64_t kFloatColBlock = 256;  // many tokens: columns per block (a multiple of 16)

// Many tokens: blocks of kFloatBlockRows rows × kFloatMaxTokens tokens × kFloatColBlock columns (the
// token group's activations stay in L1, the rows' weights in L2). Few tokens: whole rows.
template <WeightType kType>
void float_rows_typed(const Problem& p, int64_t r0, int64_t r1) {
  FloatPart part[kFloatBlockRows * kFloatMaxTokens];
  const int64_t col_block = p.n_tokens <= kFewTokens ? p.n_cols : kFloatColBlock;
  for (int64_t rb = r0; rb < r1; rb += kFloatBlockRows) {
    const int64_t re = r1 - rb < kFloatBlockRows ? r1 : rb + kFloatBlockRows;
    for (int64_t t = 0; t < p.n_tokens; t += kFloatMaxTokens) {
      const int nt = static_cast<int>(p.n_tokens - t < kFloatMaxTokens ? p.n_tokens - t : kFloatMaxTokens);
      for (int64_t k0 = 0; k0 < p.n_cols; k0 += col_block) {
        const int64_t k1 = p.n_cols - k0 < col_block ? p.n_cols : k0 + col_block;
        float_rows_dispatch<kType>(nt, p, rb, re, t, k0, k1, part, std::make_integer_sequence<int, kFloatMaxTokens>{});
      }
    }
  }
}

}  // namespace

void quantize_activations(const float* x, int64_t n_cols, int64_t n_tokens, int64_t b0, int64_t b1,
                          ActLayout layout, int32_t bias_scale, int8_t* q, float* d, int32_t* bias) {
  const int64_t n_blocks = n_cols / kBlock;
  alignas(32) int8_t levels[kBlock];
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t first = t - t % layout.tile_tokens;  // the token's tile and its place in it (ActQ8)
    const int64_t nt = n_tokens - first < layout.tile_tokens ? n_tokens - first : layout.tile_tokens;
    const int64_t lane = t - first;
    int8_t* tile_q = q + first * n_cols;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i = first * n_blocks + b * nt + lane;
      bias[i] = bias_scale * quantize_block(x + t * n_cols + b * kBlock, levels, d + i);
      int8_t* words = tile_q + tile_block_offset(b, nt);
      if (layout.word_bytes == kBlock) {
        __builtin_memcpy(words + lane * kBlock, levels, kBlock);
      } else {
        for (int64_t j = 0; j < kBlock / 4; ++j) __builtin_memcpy(words + (j * nt + lane) * 4, levels + 4 * j, 4);
      }
    }
  }
}

void float_rows(const Problem& p, int64_t r0, int64_t r1) {
  if (p.type == WeightType::kF32) float_rows_typed<WeightType::kF32>(p, r0, r1);
  else if (p.type == WeightType::kF16) float_rows_typed<WeightType::kF16>(p, r0, r1);
  else float_rows_typed<WeightType::kBF16>(p, r0, r1);
}
