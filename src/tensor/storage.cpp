#include "tensor/storage.h"

#include <cstdlib>
#include <new>

namespace lmaas {

std::shared_ptr<Storage> Storage::allocate(size_t n_bytes) {
  size_t rounded = (n_bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0) rounded = kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  auto storage = std::shared_ptr<Storage>(new Storage());
  storage->data_ = p;
  storage->size_bytes_ = n_bytes;
  storage->release_ = [p] { std::free(p); };
  return storage;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t n_bytes, std::function<void()> release) {
  auto storage = std::shared_ptr<Storage>(new Storage());
  storage->data_ = data;
  storage->size_bytes_ = n_bytes;
  storage->release_ = std::move(release);
  return storage;
}

Storage::~Storage() {
  if (release_) release_();
}

}  // namespace lmaas
