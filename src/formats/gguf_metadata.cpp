// GgufFile's typed metadata getters: type checks, integer range checks and array conversions.
// Missing keys are kNotFound; a key of another type, or a value the target type cannot hold, is kDataLoss.
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "formats/gguf.h"

namespace lmaas {
namespace {

// The scalar `bits` of integer type `type` converted to T, or nullopt when the value does not fit.
template <typename T>
std::optional<T> integer_as(GgufType type, uint64_t bits) {
  if (gguf_type_is_signed(type)) {
    int shift = 64 - 8 * static_cast<int>(gguf_type_size(type));
    int64_t v = static_cast<int64_t>(bits << shift) >> shift;  // sign-extend
    if (std::in_range<T>(v)) return static_cast<T>(v);
  } else if (std::in_range<T>(bits)) {
    return static_cast<T>(bits);
  }
  return std::nullopt;
}

// A signed rendering of an integer scalar for messages.
std::string integer_text(GgufType type, uint64_t bits) {
  if (auto v = integer_as<int64_t>(type, bits)) return std::to_string(*v);
  return std::to_string(bits);
}

uint64_t element_bits(const GgufValue& array, uint64_t i) {
  size_t size = gguf_type_size(array.elem_type);
  uint64_t bits = 0;
  std::memcpy(&bits, array.raw.data() + i * size, size);
  return bits;
}

double float_of(GgufType type, uint64_t bits) {
  return type == GgufType::kF32 ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)))
                                : std::bit_cast<double>(bits);
}

// F64 values outside float's finite range do not narrow (infinities and NaN pass through).
bool fits_float(double v) { return !std::isfinite(v) || std::fabs(v) <= std::numeric_limits<float>::max(); }

std::string describe(const GgufValue& value) {
  if (value.type != GgufType::kArray) return std::string(gguf_type_name(value.type));
  return fmt::format("ARRAY of {} {}", value.n_elements, gguf_type_name(value.elem_type));
}

}  // namespace

Status GgufFile::wrong_type(std::string_view key, const GgufValue& value, std::string_view expected) const {
  return Status(Code::kDataLoss, fmt::format("GGUF '{}': key {} is {}, expected {}", source_name_,
                                             gguf_quote(key), describe(value), expected));
}

Result<const GgufValue*> GgufFile::require(std::string_view key, std::string_view expected) const {
  const GgufValue* value = find(key);
  if (value == nullptr) {
    return Status(Code::kNotFound, fmt::format("GGUF '{}': key {} is missing, expected {}", source_name_,
                                               gguf_quote(key), expected));
  }
  return value;
}

template <typename T>
Result<T> GgufFile::get_integer(std::string_view key, std::string_view type_name) const {
  std::string expected = fmt::format("an integer that fits {}", type_name);
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, expected));
  if (!gguf_type_is_integer(value->type)) return wrong_type(key, *value, expected);
  if (auto v = integer_as<T>(value->type, value->bits)) return *v;
  return Status(Code::kDataLoss, fmt::format("GGUF '{}': key {} is {} {}, out of the range of {}",
                                             source_name_, gguf_quote(key), gguf_type_name(value->type),
                                             integer_text(value->type, value->bits), type_name));
}

Result<uint32_t> GgufFile::get_u32(std::string_view key) const { return get_integer<uint32_t>(key, "U32"); }
Result<int32_t> GgufFile::get_i32(std::string_view key) const { return get_integer<int32_t>(key, "I32"); }
Result<uint64_t> GgufFile::get_u64(std::string_view key) const { return get_integer<uint64_t>(key, "U64"); }
Result<int64_t> GgufFile::get_i64(std::string_view key) const { return get_integer<int64_t>(key, "I64"); }

Result<std::string> GgufFile::get_string(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, "a STRING"));
  if (value->type != GgufType::kString) return wrong_type(key, *value, "a STRING");
  return std::string(value->text);
}

Result<double> GgufFile::get_f64(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, "an F32 or F64"));
  if (value->type != GgufType::kF32 && value->type != GgufType::kF64)
    return wrong_type(key, *value, "an F32 or F64");
  return float_of(value->type, value->bits);
}

Result<float> GgufFile::get_f32(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(double v, get_f64(key));
  if (!fits_float(v)) {
    return Status(Code::kDataLoss, fmt::format("GGUF '{}': key {} is F64 {}, out of the range of F32",
                                               source_name_, gguf_quote(key), v));
  }
  return static_cast<float>(v);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, "a BOOL"));
  if (value->type != GgufType::kBool) return wrong_type(key, *value, "a BOOL");
  return value->bits != 0;
}

Result<std::string> GgufFile::get_string_or(std::string_view key, std::string_view fallback) const {
  return find(key) == nullptr ? Result<std::string>(std::string(fallback)) : get_string(key);
}
Result<uint32_t> GgufFile::get_u32_or(std::string_view key, uint32_t fallback) const {
  return find(key) == nullptr ? Result<uint32_t>(fallback) : get_u32(key);
}
Result<uint64_t> GgufFile::get_u64_or(std::string_view key, uint64_t fallback) const {
  return find(key) == nullptr ? Result<uint64_t>(fallback) : get_u64(key);
}
Result<int64_t> GgufFile::get_i64_or(std::string_view key, int64_t fallback) const {
  return find(key) == nullptr ? Result<int64_t>(fallback) : get_i64(key);
}
Result<float> GgufFile::get_f32_or(std::string_view key, float fallback) const {
  return find(key) == nullptr ? Result<float>(fallback) : get_f32(key);
}
Result<bool> GgufFile::get_bool_or(std::string_view key, bool fallback) const {
  return find(key) == nullptr ? Result<bool>(fallback) : get_bool(key);
}

Result<uint64_t> GgufFile::get_array_size(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, "an ARRAY"));
  if (value->type != GgufType::kArray) return wrong_type(key, *value, "an ARRAY");
  return value->n_elements;
}

Result<std::vector<std::string_view>> GgufFile::get_string_array(std::string_view key) const {
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, "an ARRAY of STRING"));
  if (value->type != GgufType::kArray || value->elem_type != GgufType::kString) {
    return wrong_type(key, *value, "an ARRAY of STRING");
  }
  return value->strings;
}

Result<std::vector<float>> GgufFile::get_f32_array(std::string_view key) const {
  constexpr std::string_view kExpected = "an ARRAY of F32 or F64";
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, kExpected));
  if (value->type != GgufType::kArray ||
      (value->elem_type != GgufType::kF32 && value->elem_type != GgufType::kF64)) {
    return wrong_type(key, *value, kExpected);
  }
  std::vector<float> out(value->n_elements);
  for (uint64_t i = 0; i < value->n_elements; ++i) {
    double v = float_of(value->elem_type, element_bits(*value, i));
    if (!fits_float(v)) {
      return Status(Code::kDataLoss,
                    fmt::format("GGUF '{}': key {} element {} is F64 {}, out of the range of F32",
                                source_name_, gguf_quote(key), i, v));
    }
    out[i] = static_cast<float>(v);
  }
  return out;
}

Result<std::vector<int32_t>> GgufFile::get_i32_array(std::string_view key) const {
  constexpr std::string_view kExpected = "an ARRAY of integers that fit I32";
  LMAAS_ASSIGN_OR_RETURN(const GgufValue* value, require(key, kExpected));
  if (value->type != GgufType::kArray || !gguf_type_is_integer(value->elem_type)) {
    return wrong_type(key, *value, kExpected);
  }
  std::vector<int32_t> out(value->n_elements);
  for (uint64_t i = 0; i < value->n_elements; ++i) {
    uint64_t bits = element_bits(*value, i);
    auto v = integer_as<int32_t>(value->elem_type, bits);
    if (!v) {
      return Status(Code::kDataLoss,
                    fmt::format("GGUF '{}': key {} element {} is {} {}, out of the range of I32",
                                source_name_, gguf_quote(key), i, gguf_type_name(value->elem_type),
                                integer_text(value->elem_type, bits)));
    }
    out[i] = *v;
  }
  return out;
}

}  // namespace lmaas
