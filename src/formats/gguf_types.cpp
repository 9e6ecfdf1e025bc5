// GGUF value types, the ggml type table, shape sizes, UTF-8 checks and GgufValue builders.
#include "formats/gguf_types.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <limits>

namespace lmaas {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF I/O assumes a little-endian host");

constexpr std::string_view kGgufTypeNames[kGgufTypeCount] = {
    "U8", "I8", "U16", "I16", "U32", "I32", "F32", "BOOL", "STRING", "ARRAY", "U64", "I64", "F64"};

// Block sizes and bytes per block: sizeof of ggml's block structs (ggml-common.h), by id.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {GgmlType::kF32, "F32", 1, 4},
    {GgmlType::kF16, "F16", 1, 2},
    {GgmlType::kQ4_0, "Q4_0", 32, 18},
    {GgmlType::kQ4_1, "Q4_1", 32, 20},
    {GgmlType::kQ5_0, "Q5_0", 32, 22},
    {GgmlType::kQ5_1, "Q5_1", 32, 24},
    {GgmlType::kQ8_0, "Q8_0", 32, 34},
    {GgmlType::kQ8_1, "Q8_1", 32, 36},
    {GgmlType::kQ2_K, "Q2_K", 256, 84},
    {GgmlType::kQ3_K, "Q3_K", 256, 110},
    {GgmlType::kQ4_K, "Q4_K", 256, 144},
    {GgmlType::kQ5_K, "Q5_K", 256, 176},
    {GgmlType::kQ6_K, "Q6_K", 256, 210},
    {GgmlType::kQ8_K, "Q8_K", 256, 292},
    {GgmlType::kIQ2_XXS, "IQ2_XXS", 256, 66},
    {GgmlType::kIQ2_XS, "IQ2_XS", 256, 74},
    {GgmlType::kIQ3_XXS, "IQ3_XXS", 256, 98},
    {GgmlType::kIQ1_S, "IQ1_S", 256, 50},
    {GgmlType::kIQ4_NL, "IQ4_NL", 32, 18},
    {GgmlType::kIQ3_S, "IQ3_S", 256, 110},
    {GgmlType::kIQ2_S, "IQ2_S", 256, 82},
    {GgmlType::kIQ4_XS, "IQ4_XS", 256, 136},
    {GgmlType::kI8, "I8", 1, 1},
    {GgmlType::kI16, "I16", 1, 2},
    {GgmlType::kI32, "I32", 1, 4},
    {GgmlType::kI64, "I64", 1, 8},
    {GgmlType::kF64, "F64", 1, 8},
    {GgmlType::kIQ1_M, "IQ1_M", 256, 56},
    {GgmlType::kBF16, "BF16", 1, 2},
    {GgmlType::kTQ1_0, "TQ1_0", 256, 54},
    {GgmlType::kTQ2_0, "TQ2_0", 256, 66},
    {GgmlType::kMXFP4, "MXFP4", 32, 17},
    {GgmlType::kNVFP4, "NVFP4", 64, 36},
    {GgmlType::kQ1_0, "Q1_0", 128, 18},
    {GgmlType::kQ2_0, "Q2_0", 64, 18},
};

struct RemovedType {
  uint32_t id;
  std::string_view name;
};
constexpr RemovedType kRemovedGgmlTypes[] = {{4, "Q4_2"},        {5, "Q4_3"},       {31, "Q4_0_4_4"},
                                             {32, "Q4_0_4_8"},   {33, "Q4_0_8_8"},  {36, "IQ4_NL_4_4"},
                                             {37, "IQ4_NL_4_8"}, {38, "IQ4_NL_8_8"}};

}  // namespace

std::string_view gguf_type_name(uint32_t id) { return id < kGgufTypeCount ? kGgufTypeNames[id] : "unknown"; }

size_t gguf_type_size(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

bool gguf_type_is_integer(GgufType type) {
  switch (type) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

bool gguf_type_is_signed(GgufType type) {
  return type == GgufType::kI8 || type == GgufType::kI16 || type == GgufType::kI32 || type == GgufType::kI64;
}

std::span<const GgmlTypeInfo> ggml_types() { return kGgmlTypes; }

const GgmlTypeInfo* find_ggml_type(uint32_t id) {
  for (const GgmlTypeInfo& info : kGgmlTypes) {
    if (static_cast<uint32_t>(info.type) == id) return &info;
  }
  return nullptr;
}

const GgmlTypeInfo& ggml_type_info(GgmlType type) {
  const GgmlTypeInfo* info = find_ggml_type(static_cast<uint32_t>(type));
  if (info == nullptr)
    throw Error(Code::kInvalidArgument,
                fmt::format("ggml type id {} is not a known type", static_cast<uint32_t>(type)));
  return *info;
}

std::string describe_invalid_ggml_type(uint32_t id) {
  for (const RemovedType& removed : kRemovedGgmlTypes) {
    if (removed.id == id) return fmt::format("{} (removed from ggml; re-quantize the model)", removed.name);
  }
  return "not a ggml type (known ids: 0-3, 6-30, 34, 35, 39-42)";
}

Result<GgmlShapeSize> ggml_shape_size(const GgmlTypeInfo& type, std::span<const int64_t> dims) {
  GgmlShapeSize out;
  out.n_elements = 1;
  bool has_zero = false;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) {
      return Status(Code::kDataLoss, fmt::format("dimension {} is {}, expected a count >= 0", i, dims[i]));
    }
    if (dims[i] == 0) has_zero = true;
    if (dims[i] != 0 && __builtin_mul_overflow(out.n_elements, dims[i], &out.n_elements)) {
      return Status(Code::kDataLoss,
                    fmt::format("dimensions {} hold more than 2^63-1 elements", fmt::join(dims, "x")));
    }
  }
  if (has_zero) out.n_elements = 0;
  int64_t ne0 = dims.empty() ? 1 : dims[0];
  if (ne0 % type.block_size != 0) {
    return Status(Code::kDataLoss, fmt::format("ne0 (dimension 0) is {}, expected a multiple of the {} block "
                                               "size {}",
                                               ne0, type.name, type.block_size));
  }
  uint64_t n_blocks = static_cast<uint64_t>(out.n_elements) / type.block_size;
  if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(type.block_bytes), &out.n_bytes)) {
    return Status(Code::kDataLoss, fmt::format("dimensions {} of {} need more than 2^64-1 bytes",
                                               fmt::join(dims, "x"), type.name));
  }
  return out;
}

std::optional<size_t> gguf_find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0, min_cp = 0;
    if ((b0 & 0xE0) == 0xC0)
      n = 2, cp = b0 & 0x1F, min_cp = 0x80;
    else if ((b0 & 0xF0) == 0xE0)
      n = 3, cp = b0 & 0x0F, min_cp = 0x800;
    else if ((b0 & 0xF8) == 0xF0)
      n = 4, cp = b0 & 0x07, min_cp = 0x10000;
    else
      return i;
    if (s.size() - i < n) return i;
    for (size_t k = 1; k < n; ++k) {
      auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n;
  }
  return std::nullopt;
}

std::string gguf_quote(std::string_view s) {
  constexpr size_t kMaxBytes = 80;
  bool utf8 = !gguf_find_invalid_utf8(s).has_value();
  std::string out = "\"";
  size_t i = 0;
  for (; i < s.size() && i < kMaxBytes; ++i) {
    auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x20 || b == 0x7F || b == '"' || b == '\\' || (b >= 0x80 && !utf8)) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  // Finish a multi-byte character cut at the limit, so the quote stays valid UTF-8.
  while (utf8 && i < s.size() && (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80) out.push_back(s[i++]);
  out += i < s.size() ? fmt::format("\"... ({} bytes)", s.size()) : "\"";
  return out;
}

GgufValue GgufValue::of(float v) { return scalar(GgufType::kF32, std::bit_cast<uint32_t>(v)); }
GgufValue GgufValue::of(double v) { return scalar(GgufType::kF64, std::bit_cast<uint64_t>(v)); }

GgufValue GgufValue::str(std::string_view s) {
  GgufValue v;
  v.type = GgufType::kString;
  v.text = s;
  return v;
}

GgufValue GgufValue::string_array(std::vector<std::string_view> values) {
  GgufValue v = array_head(GgufType::kString, values.size());
  v.strings = std::move(values);
  return v;
}

GgufValue GgufValue::array_of_arrays(std::vector<GgufValue> values) {
  GgufValue v = array_head(GgufType::kArray, values.size());
  v.arrays = std::move(values);
  return v;
}

}  // namespace lmaas
