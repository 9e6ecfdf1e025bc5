// GgufWriter: builds a GGUF version 3 file (the layout in gguf.h) from metadata and tensors.
// - Metadata keys are written in insertion order. `general.alignment` belongs to the writer: it is
//   written (as the first key) exactly when the alignment is not the default 32; adding it by hand is
//   an error.
// - Tensors are written in insertion order, each at the next multiple of the alignment, and each followed
//   by zero padding to the alignment (so a file with tensors ends on an alignment boundary, as ggml's
//   writer does). A file without tensors ends right after the metadata.
// - Tensor bytes are NOT copied: add_tensor keeps a view, and the caller keeps the bytes alive and
//   unchanged until write()/serialize() returns. write() streams header, tensors and padding as separate
//   chunks to write_file_atomic (temp + fsync + rename), so a large model is never joined in memory.
// - Misuse (duplicate or invalid key, bad tensor shape or byte count, bad alignment) is recorded: the
//   first error is kept, later calls do nothing, and write()/serialize() return it (kInvalidArgument).
// Thread safety: one thread at a time; serialize() and write() may run concurrently with each other.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "formats/gguf.h"
#include "formats/gguf_types.h"

namespace lmaas {

class GgufWriter {
 public:
  // `alignment`: a power of two from 1 to kMaxAlignment.
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);
  static constexpr uint32_t kMaxAlignment = 1u << 16;

  void add_u8(std::string_view key, uint8_t v) { add_value(key, GgufValue::of(v)); }
  void add_i8(std::string_view key, int8_t v) { add_value(key, GgufValue::of(v)); }
  void add_u16(std::string_view key, uint16_t v) { add_value(key, GgufValue::of(v)); }
  void add_i16(std::string_view key, int16_t v) { add_value(key, GgufValue::of(v)); }
  void add_u32(std::string_view key, uint32_t v) { add_value(key, GgufValue::of(v)); }
  void add_i32(std::string_view key, int32_t v) { add_value(key, GgufValue::of(v)); }
  void add_u64(std::string_view key, uint64_t v) { add_value(key, GgufValue::of(v)); }
  void add_i64(std::string_view key, int64_t v) { add_value(key, GgufValue::of(v)); }
  void add_f32(std::string_view key, float v) { add_value(key, GgufValue::of(v)); }
  void add_f64(std::string_view key, double v) { add_value(key, GgufValue::of(v)); }
  void add_bool(std::string_view key, bool v) { add_value(key, GgufValue::of(v)); }
  void add_string(std::string_view key, std::string_view v) { add_value(key, GgufValue::str(v)); }

  // Arrays of scalars and strings (copied into the metadata at once).
  void add_array(std::string_view key, std::span<const uint8_t> v) {
    add_value(key, GgufValue::array(GgufType::kU8, v));
  }
  void add_array(std::string_view key, std::span<const int8_t> v) {
    add_value(key, GgufValue::array(GgufType::kI8, v));
  }
  void add_array(std::string_view key, std::span<const uint16_t> v) {
    add_value(key, GgufValue::array(GgufType::kU16, v));
  }
  void add_array(std::string_view key, std::span<const int16_t> v) {
    add_value(key, GgufValue::array(GgufType::kI16, v));
  }
  void add_array(std::string_view key, std::span<const uint32_t> v) {
    add_value(key, GgufValue::array(GgufType::kU32, v));
  }
  void add_array(std::string_view key, std::span<const int32_t> v) {
    add_value(key, GgufValue::array(GgufType::kI32, v));
  }
  void add_array(std::string_view key, std::span<const uint64_t> v) {
    add_value(key, GgufValue::array(GgufType::kU64, v));
  }
  void add_array(std::string_view key, std::span<const int64_t> v) {
    add_value(key, GgufValue::array(GgufType::kI64, v));
  }
  void add_array(std::string_view key, std::span<const float> v) {
    add_value(key, GgufValue::array(GgufType::kF32, v));
  }
  void add_array(std::string_view key, std::span<const double> v) {
    add_value(key, GgufValue::array(GgufType::kF64, v));
  }
  void add_array(std::string_view key, std::span<const bool> v) {
    add_value(key, GgufValue::array(GgufType::kBool, v));
  }
  void add_array(std::string_view key, std::span<const std::string> v);
  void add_array(std::string_view key, std::span<const std::string_view> v);
  // Any value, nested arrays included (for instance one taken from a GgufFile's metadata()).
  void add_value(std::string_view key, const GgufValue& value);

  // A tensor of `type` with `dims` (ne0 first, at most 4; empty = a scalar) whose bytes are `data`
  // (viewed, not copied; their size must match the type and shape).
  void add_tensor(std::string_view name, GgmlType type, std::span<const int64_t> dims,
                  std::span<const uint8_t> data);

  const Status& status() const { return status_; }
  // The whole file in memory (tests, small files).
  Result<std::string> serialize() const;
  // Writes the file to `path` atomically.
  Status write(const std::string& path) const;

 private:
  struct Tensor {
    std::string name;
    uint64_t offset = 0;  // in the data section
    std::span<const uint8_t> data;
  };
  Status encode_value(const GgufValue& value, int depth, std::string* out) const;
  void record(Status status);
  uint64_t padding_after(uint64_t n_bytes) const { return (alignment_ - n_bytes % alignment_) % alignment_; }
  // The header, metadata and tensor infos, padded to the data section.
  std::string head() const;
  Result<std::vector<std::string_view>> chunks(std::string* head_storage, std::string* zeros) const;

  uint32_t alignment_;
  Status status_;
  uint64_t n_kv_ = 0;
  std::string metadata_;      // encoded key/values
  std::string tensor_infos_;  // encoded tensor infos
  std::unordered_set<std::string> keys_;
  std::vector<Tensor> tensors_;
  std::unordered_set<std::string> tensor_names_;
  uint64_t data_bytes_ = 0;  // data section size so far, padding included
};

}  // namespace lmaas
