// safetensors: read and write the standard `.safetensors` file (the weights of a model bundle).
// Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON header, then the byte buffer:
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// Offsets are relative to the start of the buffer; the tensors must cover the buffer exactly (no gaps,
// no overlaps, no trailing bytes), as the reference implementation requires.
// Invariants:
// - Readers validate everything and never throw, abort or assert on input: every defect comes back as a
//   Status (kDataLoss for a corrupt file, kUnimplemented for a valid dtype lmaas does not support) whose
//   message names the file, the tensor, the field and the offending value.
// - Loaded tensors own fresh 64-byte-aligned memory (a copy); they never alias the input bytes.
// - Writers emit the header keys in insertion order, pad the header with spaces to a multiple of 8 bytes
//   and place the data sorted by element size (largest first, stable), so every tensor is naturally
//   aligned in the file; files are written atomically (temp + fsync + rename).
// Supported dtypes (TensorMap): F32, F64, I32, I64, U8, BF16; index_safetensors reads all. Thread safety: free functions, no shared state.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tensor/tensor.h"

namespace lmaas {

// A named set of tensors plus string metadata, as stored in a .safetensors file. Names are unique in a
// valid map; `tensors` keeps insertion order (for a loaded file: the order of the header).
struct TensorMap {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  // The tensor called `name`, or nullptr. Linear search.
  const Tensor* find(std::string_view name) const;
};

// The largest header accepted by the reader (the reference implementation's limit).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// Reads the whole file at `path` and parses it with full validation.
Result<TensorMap> read_safetensors(const std::string& path);
// Parses a whole file held in memory; `source_name` (a path, usually) appears in every error message.
Result<TensorMap> parse_safetensors(std::string_view bytes, const std::string& source_name);

// One tensor of a safetensors file as stored, for readers that take the bytes as they are (memory-mapped
// pretrained checkpoints): the format's dtype name ("F16", "BF16", ...), the shape, and the bytes — a view
// into the caller's buffer (their alignment is whatever the file gives).
struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string_view bytes;
};

struct SafetensorsIndex {
  std::vector<SafetensorsEntry> tensors;  // in header order
  std::map<std::string, std::string> metadata;

  const SafetensorsEntry* find(std::string_view name) const;  // nullptr when absent; linear search
};

// Validates `bytes` exactly as parse_safetensors does but copies nothing, and accepts every whole-byte
// dtype of the format (the sub-byte F4/F6 types are kUnimplemented).
Result<SafetensorsIndex> index_safetensors(std::string_view bytes, const std::string& source_name);

// Writes tensors held as bytes (each entry's dtype a format name such as "F16", its bytes the row-major data of
// its shape, little-endian) to `path` atomically, in the same layout as write_safetensors. Fails (without
// touching `path`) on the reserved or a duplicate name, a dtype the format has no whole-byte size for, or a byte
// count that is not the shape's.
Status write_safetensors_entries(const std::string& path, std::span<const SafetensorsEntry> tensors,
                                 const std::map<std::string, std::string>& metadata = {});

// Writes `map` to `path` atomically. Fails (without touching `path`) on an invalid map: an undefined
// tensor, duplicate names, the reserved name "__metadata__", or names/metadata that are not UTF-8.
Status write_safetensors(const std::string& path, const TensorMap& map);
// The bytes write_safetensors would write. Throws lmaas::Error(kInvalidArgument) on an invalid map.
std::string serialize_safetensors(const TensorMap& map);

}  // namespace lmaas
