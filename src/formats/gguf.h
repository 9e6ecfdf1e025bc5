// GgufFile: a validated, read-only view of a GGUF file (versions 2 and 3; the llama.cpp model format).
// Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv; n_kv key/values (key = u64 length
// + bytes, u32 value type, value); n_tensors tensor infos (name, u32 n_dims, u64 dims[n_dims] with ne0 =
// the contiguous dimension first, u32 ggml type, u64 offset into the data section); zero padding to
// `general.alignment` (u32, default 32); the data section. See gguf_types.h for types and values.
// Invariants of a GgufFile (parse/open check all of them; nothing is read out of bounds, and no count is
// trusted before the remaining bytes could hold it):
// - keys are unique, valid UTF-8, at most 65535 bytes; bools are 0 or 1; arrays nest at most
//   kGgufMaxArrayDepth deep; `general.alignment`, when present, is a U32 power of two.
// - tensor names are unique, valid UTF-8, at most 64 bytes; n_dims <= 4 (0 = a scalar); dimensions are
//   >= 0 (0 gives an empty tensor, as ggml allows) with at most 2^63-1 elements; the type is a known ggml
//   type; ne0 is a multiple of its block size; offsets are multiples of the alignment; every tensor lies
//   inside the data section and no two tensors overlap. Offsets need not be in file order.
// - Strings in values and tensor data are not interpreted (value strings need not be UTF-8).
// Errors: kDataLoss for a corrupt file, kUnimplemented for a valid file this reader does not handle
// (version 1 with 32-bit counts, a newer version, a big-endian file); messages read
//   GGUF '<source>': <section (header / key N "name" / tensor N "name" / data section)>: <field> is
//   <value>, expected <what>.
// Ownership: a GgufFile shares ownership of its bytes (the mapping, or the string given to parse());
// every string_view, span and data pointer it hands out points into those bytes and stays valid while
// any copy of the GgufFile lives. Copies are cheap (the bytes are shared) and immutable.
// Thread safety: const methods may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "formats/gguf_types.h"

namespace lmaas {

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxKeyBytes = 65535;
inline constexpr size_t kGgufMaxTensorNameBytes = 64;
// Arrays of arrays deeper than this are rejected (the parser recurses once per level).
inline constexpr int kGgufMaxArrayDepth = 8;

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufTensor {
  std::string_view name;
  GgmlType type = GgmlType::kF32;
  std::string_view type_name;  // "F32", "Q4_K", ...
  std::vector<int64_t> dims;   // ne0 (contiguous) first; empty for a scalar
  int64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t offset = 0;            // from the start of the data section
  const uint8_t* data = nullptr;  // into the file's bytes; unaligned unless the alignment allows
};

class GgufFile {
 public:
  // Maps the file at `path` (no copy) and parses it.
  static Result<GgufFile> open(const std::string& path);
  // Parses a whole file held in memory; the file keeps `bytes` (move it in to avoid a copy).
  // `source_name` (a path, usually) appears in every error message.
  static Result<GgufFile> parse(std::string bytes, std::string source_name);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::string& source_name() const { return source_name_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section

  // ---- metadata (file order) ----
  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;

  // Typed getters: kNotFound when the key is missing; kDataLoss when it has another type or a value
  // out of the target's range. Integer getters accept any integer type whose value fits.
  Result<std::string> get_string(std::string_view key) const;
  Result<uint32_t> get_u32(std::string_view key) const;
  Result<int32_t> get_i32(std::string_view key) const;
  Result<uint64_t> get_u64(std::string_view key) const;
  Result<int64_t> get_i64(std::string_view key) const;
  Result<float> get_f32(std::string_view key) const;   // F32, or F64 within float's range
  Result<double> get_f64(std::string_view key) const;  // F32 or F64
  Result<bool> get_bool(std::string_view key) const;
  // The same for optional keys: `fallback` when the key is missing, an error when it has a bad value.
  Result<std::string> get_string_or(std::string_view key, std::string_view fallback) const;
  Result<uint32_t> get_u32_or(std::string_view key, uint32_t fallback) const;
  Result<uint64_t> get_u64_or(std::string_view key, uint64_t fallback) const;
  Result<int64_t> get_i64_or(std::string_view key, int64_t fallback) const;
  Result<float> get_f32_or(std::string_view key, float fallback) const;
  Result<bool> get_bool_or(std::string_view key, bool fallback) const;

  // Arrays. Strings are views into the file's bytes.
  Result<uint64_t> get_array_size(std::string_view key) const;
  Result<std::vector<std::string_view>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_f32_array(std::string_view key) const;    // F32 or F64 elements
  Result<std::vector<int32_t>> get_i32_array(std::string_view key) const;  // any integer elements that fit

  // ---- tensors (file order) ----
  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(std::string_view name) const;

 private:
  friend class GgufParser;
  GgufFile() = default;
  Result<const GgufValue*> require(std::string_view key, std::string_view expected) const;
  Status wrong_type(std::string_view key, const GgufValue& value, std::string_view expected) const;
  template <typename T>
  Result<T> get_integer(std::string_view key, std::string_view type_name) const;

  std::shared_ptr<const void> owner_;  // keeps bytes_ alive
  std::span<const uint8_t> bytes_;
  std::string source_name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensor> tensors_;
  std::unordered_map<std::string_view, size_t> key_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace lmaas
