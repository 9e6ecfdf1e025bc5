// Weight storage types for language-model inference: the element types and block layouts a weight
// matrix may be stored in, byte-compatible with GGUF/ggml so that weights are used in place from a
// mapped file. A matrix [n_rows, n_cols] is stored row by row; each row is n_cols / block_size(type)
// blocks of block_bytes(type) bytes, with no padding between rows or blocks (n_cols must be a multiple
// of the block size).
//   kF32   1 weight per 4 bytes (IEEE binary32)
//   kF16   1 weight per 2 bytes (IEEE binary16)
//   kBF16  1 weight per 2 bytes (bfloat16: the top half of a binary32)
//   kQ8_0  32 weights per 34 bytes: binary16 scale d, then 32 int8 q;              x ≈ d·q
//   kQ4_0  32 weights per 18 bytes: binary16 scale d, then 16 bytes: byte j holds element j in its low
//          nibble and element j+16 in its high nibble (q in 0..15);                 x ≈ d·(q − 8)
// Conversions between float and binary16/bfloat16 round to nearest, ties to even, keep infinities and
// keep NaNs NaN (quiet); binary16 subnormals are produced and read exactly.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lmaas::kernels {

enum class WeightType : uint8_t { kF32, kF16, kBF16, kQ8_0, kQ4_0 };

inline constexpr int64_t kQuantBlock = 32;  // weights per Q8_0 / Q4_0 block

struct BlockQ8_0 {
  uint16_t d;  // binary16 scale
  int8_t qs[kQuantBlock];
};
struct BlockQ4_0 {
  uint16_t d;                   // binary16 scale
  uint8_t qs[kQuantBlock / 2];  // element j: low nibble of byte j; element j + 16: its high nibble
};
static_assert(sizeof(BlockQ8_0) == 34 && alignof(BlockQ8_0) == 2);
static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 2);

// Weights per block (1 for the float types).
constexpr int64_t block_size(WeightType type) {
  return type == WeightType::kQ8_0 || type == WeightType::kQ4_0 ? kQuantBlock : 1;
}

// Bytes per block.
constexpr int64_t block_bytes(WeightType type) {
  switch (type) {
    case WeightType::kF32: return 4;
    case WeightType::kF16: return 2;
    case WeightType::kBF16: return 2;
    case WeightType::kQ8_0: return static_cast<int64_t>(sizeof(BlockQ8_0));
    case WeightType::kQ4_0: return static_cast<int64_t>(sizeof(BlockQ4_0));
  }
  return 0;
}

// Bytes of one row of n_cols weights (n_cols a multiple of block_size(type)).
constexpr int64_t row_bytes(WeightType type, int64_t n_cols) { return n_cols / block_size(type) * block_bytes(type); }

constexpr std::string_view weight_type_name(WeightType type) {
  switch (type) {
    case WeightType::kF32: return "f32";
    case WeightType::kF16: return "f16";
    case WeightType::kBF16: return "bf16";
    case WeightType::kQ8_0: return "q8_0";
    case WeightType::kQ4_0: return "q4_0";
  }
  return "?";
}

// The GGUF tensor type ids (ggml_type) of these layouts: F32 0, F16 1, Q4_0 2, Q8_0 8, BF16 30.
constexpr uint32_t gguf_type_id(WeightType type) {
  switch (type) {
    case WeightType::kF32: return 0;
    case WeightType::kF16: return 1;
    case WeightType::kBF16: return 30;
    case WeightType::kQ8_0: return 8;
    case WeightType::kQ4_0: return 2;
  }
  return ~0u;
}
constexpr std::optional<WeightType> weight_type_from_gguf(uint32_t id) {
  for (WeightType t : {WeightType::kF32, WeightType::kF16, WeightType::kBF16, WeightType::kQ8_0, WeightType::kQ4_0})
    if (gguf_type_id(t) == id) return t;
  return std::nullopt;
}

// binary16 bits -> float (exact).
constexpr float fp16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant · 2^-24, exact in float
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));  // inf, NaN (payload kept)
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

// float -> binary16 bits, round to nearest even; overflow gives ±inf, NaN a quiet NaN.
constexpr uint16_t f32_to_fp16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // ≥ 65520 rounds to inf
  if (a >= 0x38800000u) {                                              // normal binary16 (≥ 2^-14)
    const uint32_t odd = (a >> 13) & 1u;
    return static_cast<uint16_t>(sign | ((a - 0x38000000u + 0xfffu + odd) >> 13));
  }
  // Subnormal binary16: round (1.m · 2^(e-127)) / 2^-24 = M >> s with M the 24-bit significand.
  const uint32_t e = a >> 23;
  if (e < 102) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero
  const uint32_t m = (a & 0x7fffffu) | 0x800000u, s = 126 - e;
  uint32_t q = m >> s;
  const uint32_t rem = m & ((1u << s) - 1), half = 1u << (s - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

constexpr float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// float -> bfloat16 bits, round to nearest even (as PyTorch and numpy-style converters do); NaN stays a
// quiet NaN of the same sign.
constexpr uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace lmaas::kernels
