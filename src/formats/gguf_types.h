// GGUF vocabulary shared by the reader (gguf.h) and the writer (gguf_writer.h): metadata value types,
// the ggml tensor type table, GgufValue, and shape/UTF-8 checks both sides apply.
// - GgmlType lists every tensor type the current ggml defines (ids 0-3, 6-30, 34, 35, 39-42); ids 4, 5
//   (Q4_2, Q4_3), 31-33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) and 36-38 (IQ4_NL_4_4...) were removed from ggml
//   and are invalid in a file. Block sizes and bytes per block are ggml's (sizeof of its block structs).
// - A GgufValue is a non-owning view: strings and array bytes point into memory someone else owns (the
//   GgufFile's bytes, or the caller's buffers while GgufWriter::add_value copies them).
// Thread safety: everything here is immutable or a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lmaas {

// Metadata value type ids, as stored in the file (u32).
enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
inline constexpr uint32_t kGgufTypeCount = 13;

// "U8", "STRING", ...; "unknown" for an id that is not a GgufType.
std::string_view gguf_type_name(uint32_t id);
inline std::string_view gguf_type_name(GgufType type) { return gguf_type_name(static_cast<uint32_t>(type)); }
// Bytes of one value of a fixed-size type (1 for BOOL); 0 for STRING, ARRAY and unknown ids.
size_t gguf_type_size(GgufType type);
bool gguf_type_is_integer(GgufType type);  // U8..I64 (not BOOL)
bool gguf_type_is_signed(GgufType type);   // I8, I16, I32, I64

// ggml tensor type ids (u32 in the file).
// clang-format off
enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kQ2_K = 10, kQ3_K = 11, kQ4_K = 12, kQ5_K = 13, kQ6_K = 14, kQ8_K = 15,
  kIQ2_XXS = 16, kIQ2_XS = 17, kIQ3_XXS = 18, kIQ1_S = 19, kIQ4_NL = 20, kIQ3_S = 21, kIQ2_S = 22,
  kIQ4_XS = 23, kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kIQ1_M = 29, kBF16 = 30,
  kTQ1_0 = 34, kTQ2_0 = 35, kMXFP4 = 39, kNVFP4 = 40, kQ1_0 = 41, kQ2_0 = 42,
};
// clang-format on

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // upper case, as in GGUF tools: "F32", "Q4_K", "IQ2_XXS"
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
};

// Every known type, by id.
std::span<const GgmlTypeInfo> ggml_types();
// The type with this id, or nullptr for an unknown or removed id.
const GgmlTypeInfo* find_ggml_type(uint32_t id);
const GgmlTypeInfo& ggml_type_info(GgmlType type);
inline std::string_view ggml_type_name(GgmlType type) { return ggml_type_info(type).name; }
// For messages about an invalid id: "Q4_2 (removed from ggml)", or "not a ggml type".
std::string describe_invalid_ggml_type(uint32_t id);

// Element count and byte size of a tensor of `type` with `dims` (ne0 first; empty = one element).
struct GgmlShapeSize {
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
};
// Fails (kDataLoss, a message fragment without file or tensor prefix) on a negative dimension, an element
// count above INT64_MAX, ne0 not a multiple of the block size, or a byte size above UINT64_MAX.
Result<GgmlShapeSize> ggml_shape_size(const GgmlTypeInfo& type, std::span<const int64_t> dims);

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates, > U+10FFFF included), or
// nullopt when `s` is valid.
std::optional<size_t> gguf_find_invalid_utf8(std::string_view s);
// `s` in double quotes for messages: control bytes (and all non-ASCII bytes when `s` is not valid UTF-8)
// written as \xNN, cut after about 80 bytes.
std::string gguf_quote(std::string_view s);

// One metadata value. Which fields mean something depends on `type` (and `elem_type` for arrays):
//   integer, F32, F64, BOOL scalars: `bits`, the value's little-endian bit pattern zero-extended to 64 bits
//   STRING: `text` (bytes as stored; not checked for UTF-8)
//   ARRAY: `elem_type`, `n_elements`, and
//     fixed-size elements: `raw` (n_elements * size bytes, little-endian, not aligned: read with memcpy)
//     STRING elements: `strings`;  ARRAY elements: `arrays` (each with its own elem_type)
struct GgufValue {
  GgufType type = GgufType::kU8;
  uint64_t bits = 0;
  std::string_view text;
  GgufType elem_type = GgufType::kU8;
  uint64_t n_elements = 0;
  std::string_view raw;
  std::vector<std::string_view> strings;
  std::vector<GgufValue> arrays;

  // Scalars and strings (views: `s` and array spans must outlive the value's use).
  static GgufValue of(uint8_t v) { return scalar(GgufType::kU8, v); }
  static GgufValue of(int8_t v) { return scalar(GgufType::kI8, static_cast<uint8_t>(v)); }
  static GgufValue of(uint16_t v) { return scalar(GgufType::kU16, v); }
  static GgufValue of(int16_t v) { return scalar(GgufType::kI16, static_cast<uint16_t>(v)); }
  static GgufValue of(uint32_t v) { return scalar(GgufType::kU32, v); }
  static GgufValue of(int32_t v) { return scalar(GgufType::kI32, static_cast<uint32_t>(v)); }
  static GgufValue of(uint64_t v) { return scalar(GgufType::kU64, v); }
  static GgufValue of(int64_t v) { return scalar(GgufType::kI64, static_cast<uint64_t>(v)); }
  static GgufValue of(float v);
  static GgufValue of(double v);
  static GgufValue of(bool v) { return scalar(GgufType::kBool, v ? 1 : 0); }
  static GgufValue str(std::string_view s);
  // Arrays of fixed-size elements viewing `values` (the host is little-endian, as the format).
  template <typename T>
  static GgufValue array(GgufType elem_type, std::span<const T> values) {
    GgufValue v = array_head(elem_type, values.size());
    v.raw = std::string_view(reinterpret_cast<const char*>(values.data()), values.size_bytes());
    return v;
  }
  static GgufValue string_array(std::vector<std::string_view> values);
  static GgufValue array_of_arrays(std::vector<GgufValue> values);

 private:
  static GgufValue array_head(GgufType elem_type, uint64_t n_elements) {
    GgufValue v;
    v.type = GgufType::kArray;
    v.elem_type = elem_type;
    v.n_elements = n_elements;
    return v;
  }
  static GgufValue scalar(GgufType type, uint64_t bits) {
    GgufValue v;
    v.type = type;
    v.bits = bits;
    return v;
  }
};

}  // namespace lmaas
