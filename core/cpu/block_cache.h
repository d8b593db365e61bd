// A cache of large freed CPU blocks. Buffers of 256 KiB and more (activations, gradients, im2col
// tiles) are mmapped by glibc when allocated and unmapped when freed, so every training step
// page-faults and zero-fills them again (about 10% of a ResNet step in a profile). Freed large
// blocks are kept here and handed out again for requests of the same size class. The cache
// holds at most `limit` bytes (SELFSUP_CPU_CACHE_MB, default 2048; 0 disables it); beyond that,
// blocks are freed for real. Small blocks go straight to malloc, whose bins already reuse them.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace selfsup::core::cpu {

class BlockCache {
 public:
  static constexpr std::size_t kMinCachedBytes = std::size_t{256} << 10;
  static constexpr std::size_t kAlign = 64;

  explicit BlockCache(std::size_t limit_bytes) : limit_(limit_bytes) {}
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  /// A 64-byte aligned block of at least `bytes`; nullptr when the system is out of memory.
  void* allocate(std::size_t bytes);
  void deallocate(void* ptr) noexcept;
  /// Frees every cached (unused) block.
  void release_all() noexcept;
  std::size_t cached_bytes() const;
  /// Bytes of large blocks handed out and not yet freed (size classes), now and at the peak
  /// since construction or the last reset_peak(). Small blocks are not counted.
  std::size_t live_bytes() const;
  std::size_t peak_live_bytes() const;
  void reset_peak();

  /// The size a request is rounded to: multiples of 64 below kMinCachedBytes; above, 8 classes
  /// per power of two, so a reused block wastes at most 12.5%.
  static std::size_t size_class(std::size_t bytes);

 private:
  void count_live(std::size_t size);  // with mutex_ held

  mutable std::mutex mutex_;
  std::size_t limit_;
  std::size_t cached_ = 0;
  std::size_t live_ = 0, peak_live_ = 0;
  std::multimap<std::size_t, void*> free_;        // size class -> block
  std::unordered_map<void*, std::size_t> sizes_;  // live large blocks -> size class
};

}  // namespace selfsup::core::cpu
