#include "core/cpu/block_cache.h"

#include <algorithm>
#include <bit>
#include <cstdlib>

namespace selfsup::core::cpu {

std::size_t BlockCache::size_class(std::size_t bytes) {
  bytes = bytes == 0 ? 1 : bytes;
  if (bytes < kMinCachedBytes) return (bytes + kAlign - 1) / kAlign * kAlign;
  const std::size_t step = std::bit_floor(bytes) / 8;
  return (bytes + step - 1) / step * step;
}

void* BlockCache::allocate(std::size_t bytes) {
  const std::size_t size = size_class(bytes);
  if (size < kMinCachedBytes) return std::aligned_alloc(kAlign, size);
  {
    std::lock_guard lock(mutex_);
    const auto it = free_.find(size);
    if (it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      cached_ -= size;
      sizes_.emplace(p, size);
      count_live(size);
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, size);
  if (p == nullptr) {
    release_all();  // give the cached blocks back and try once more
    p = std::aligned_alloc(kAlign, size);
    if (p == nullptr) return nullptr;
  }
  std::lock_guard lock(mutex_);
  sizes_.emplace(p, size);
  count_live(size);
  return p;
}

void BlockCache::deallocate(void* ptr) noexcept {
  if (ptr == nullptr) return;
  std::unique_lock lock(mutex_);
  const auto it = sizes_.find(ptr);
  if (it == sizes_.end()) {  // a small block
    lock.unlock();
    std::free(ptr);
    return;
  }
  const std::size_t size = it->second;
  sizes_.erase(it);
  live_ -= size;
  if (cached_ + size > limit_) {
    lock.unlock();
    std::free(ptr);
    return;
  }
  free_.emplace(size, ptr);
  cached_ += size;
}

void BlockCache::release_all() noexcept {
  std::lock_guard lock(mutex_);
  for (const auto& [size, p] : free_) std::free(p);
  free_.clear();
  cached_ = 0;
}

std::size_t BlockCache::cached_bytes() const {
  std::lock_guard lock(mutex_);
  return cached_;
}

void BlockCache::count_live(std::size_t size) {
  live_ += size;
  peak_live_ = std::max(peak_live_, live_);
}

std::size_t BlockCache::live_bytes() const {
  std::lock_guard lock(mutex_);
  return live_;
}

std::size_t BlockCache::peak_live_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_live_;
}

void BlockCache::reset_peak() {
  std::lock_guard lock(mutex_);
  peak_live_ = live_;
}

BlockCache::~BlockCache() { release_all(); }

}  // namespace selfsup::core::cpu
