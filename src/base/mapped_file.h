// MappedFile: a read-only memory map of a whole file (open + fstat + mmap, MAP_PRIVATE, PROT_READ).
// - Owns the mapping; move-only. The bytes stay valid and unchanged (to this process) until the object is
//   destroyed or moved from; a moved-from MappedFile is empty.
// - An empty file is fine: it maps nothing and bytes() is an empty span.
// - Errors come back as a Status naming the path and the system's reason: kNotFound (missing),
//   kPermissionDenied, kInvalidArgument (not a regular file), kResourceExhausted (mmap failed),
//   kUnavailable (other open/fstat failures).
// Thread safety: const methods may be called from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lmaas {

class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);

  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, n_bytes_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), n_bytes_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return n_bytes_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t n_bytes)
      : path_(std::move(path)), data_(data), n_bytes_(n_bytes) {}
  void unmap();

  std::string path_;
  const uint8_t* data_ = nullptr;  // nullptr when empty
  size_t n_bytes_ = 0;
};

}  // namespace lmaas
