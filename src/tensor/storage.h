// Storage: one 64-byte-aligned block of bytes, shared by every Tensor that views it. Either owns its
// memory or wraps memory owned elsewhere (a mapped file) through a release callback.
// Immutable size; contents are written by whoever holds a Tensor over it (one owner at a time).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace lmaas {

class Storage {
 public:
  static constexpr size_t kAlignment = 64;
  // Uninitialised memory of n_bytes (rounded up internally to the alignment).
  static std::shared_ptr<Storage> allocate(size_t n_bytes);
  // Wraps external memory; `release` runs when the last Tensor over it goes away.
  static std::shared_ptr<Storage> wrap(void* data, size_t n_bytes, std::function<void()> release);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t size_bytes() const { return size_bytes_; }

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t size_bytes_ = 0;
  std::function<void()> release_;
};

}  // namespace lmaas
