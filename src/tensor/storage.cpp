// Storage allocation with a size-keyed block cache: training and inference loops allocate the same
// buffer sizes every step, and handing freed blocks back out avoids the page faults and zeroing of
// fresh memory from the OS. The cache is bounded (kMaxCachedBytes) and thread-safe.
#include "tensor/storage.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace lmaas {
#ifndef LMAAS_NO_BLOCK_CACHE
namespace {

constexpr size_t kMaxCachedBytes = size_t{512} << 20;
constexpr size_t kMaxCachedBlockBytes = size_t{128} << 20;

// Blocks come in size classes (8 per power of two, at most 12.5% slack), so that buffers whose sizes
// vary a little from step to step (packed token counts) still reuse each other's memory.
size_t size_class(size_t n_bytes) {
  if (n_bytes <= 4096) return (n_bytes + 63) / 64 * 64;
  size_t top = size_t{1} << (63 - __builtin_clzll(n_bytes));
  size_t step = top / 8;
  return (n_bytes + step - 1) / step * step;
}

class BlockCache {
 public:
  void* take(size_t rounded) {
    std::lock_guard lock(mutex_);
    auto it = free_.find(rounded);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= rounded;
    return p;
  }
  // Keeps the block for reuse, or frees it when the cache is full.
  void give(void* p, size_t rounded) {
    {
      std::lock_guard lock(mutex_);
      if (rounded <= kMaxCachedBlockBytes && cached_bytes_ + rounded <= kMaxCachedBytes) {
        free_[rounded].push_back(p);
        cached_bytes_ += rounded;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
};

// Never destroyed: storages released during static destruction may still return blocks to it.
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();
  return *cache;
}

}  // namespace
#endif  // LMAAS_NO_BLOCK_CACHE

std::shared_ptr<Storage> Storage::allocate(size_t n_bytes) {
#ifdef LMAAS_NO_BLOCK_CACHE
  size_t rounded = std::max((n_bytes + kAlignment - 1) / kAlignment * kAlignment, kAlignment);
#else
  size_t rounded = std::max(size_class(n_bytes), kAlignment);
#endif
#ifdef LMAAS_NO_BLOCK_CACHE  // sanitizer builds: every block fresh, so use-after-free is caught
  void* p = nullptr;
#else
  void* p = block_cache().take(rounded);
#endif
  if (p == nullptr) p = std::aligned_alloc(kAlignment, rounded);
  if (p == nullptr) throw std::bad_alloc();
  auto storage = std::shared_ptr<Storage>(new Storage());
  storage->data_ = p;
  storage->size_bytes_ = n_bytes;
#ifdef LMAAS_NO_BLOCK_CACHE
  storage->release_ = [p] { std::free(p); };
#else
  storage->release_ = [p, rounded] { block_cache().give(p, rounded); };
#endif
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
