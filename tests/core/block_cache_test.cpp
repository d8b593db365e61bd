// The CPU block cache: size classes, reuse of freed large blocks, the byte limit, and release.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>

#include "core/cpu/block_cache.h"
#include "core/cpu/cpu_backend.h"
#include "core/tensor.h"

using selfsup::core::cpu::BlockCache;

TEST_CASE("block cache: size classes round up by at most an eighth") {
  CHECK(BlockCache::size_class(1) == 64);
  CHECK(BlockCache::size_class(100) == 128);
  CHECK(BlockCache::size_class(BlockCache::kMinCachedBytes) == BlockCache::kMinCachedBytes);
  for (const std::size_t bytes : {std::size_t{300000}, std::size_t{1} << 20, std::size_t{5000001}, std::size_t{67108865}}) {
    const std::size_t c = BlockCache::size_class(bytes);
    CHECK(c >= bytes);
    CHECK(static_cast<double>(c) <= static_cast<double>(bytes) * 1.125 + 64);
    CHECK(BlockCache::size_class(c) == c);
  }
}

TEST_CASE("block cache: a freed large block is reused for the same size class") {
  BlockCache cache(std::size_t{64} << 20);
  void* a = cache.allocate(1 << 20);
  REQUIRE(a != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % BlockCache::kAlign == 0);
  std::memset(a, 1, 1 << 20);
  cache.deallocate(a);
  CHECK(cache.cached_bytes() == BlockCache::size_class(1 << 20));
  void* b = cache.allocate((1 << 20) - 100);  // same class
  CHECK(b == a);
  CHECK(cache.cached_bytes() == 0);
  void* small = cache.allocate(1000);
  cache.deallocate(small);
  CHECK(cache.cached_bytes() == 0);  // small blocks are not cached
  cache.deallocate(b);
  cache.release_all();
  CHECK(cache.cached_bytes() == 0);
}

TEST_CASE("block cache: the limit bounds what is kept") {
  BlockCache cache(std::size_t{1} << 20);
  void* a = cache.allocate(std::size_t{768} << 10);
  void* b = cache.allocate(std::size_t{768} << 10);
  cache.deallocate(a);
  cache.deallocate(b);  // would exceed the 1 MiB limit: freed for real
  CHECK(cache.cached_bytes() == BlockCache::size_class(std::size_t{768} << 10));
  BlockCache disabled(0);
  disabled.deallocate(disabled.allocate(std::size_t{1} << 20));
  CHECK(disabled.cached_bytes() == 0);
}

TEST_CASE("block cache: tensors allocate through it and empty_cache releases") {
  { const auto t = selfsup::core::Tensor::zeros({1 << 20}); CHECK(t.numel() == (1 << 20)); }
  CHECK(selfsup::core::cpu::cached_bytes() >= (std::size_t{4} << 20));
  selfsup::core::cpu::empty_cache();
  CHECK(selfsup::core::cpu::cached_bytes() == 0);
}

TEST_CASE("block cache: live and peak bytes follow allocations, from the cache or not") {
  BlockCache cache(std::size_t{64} << 20);
  const std::size_t one = BlockCache::size_class(std::size_t{1} << 20);
  void* a = cache.allocate(std::size_t{1} << 20);
  void* b = cache.allocate(std::size_t{1} << 20);
  CHECK(cache.live_bytes() == 2 * one);
  cache.deallocate(a);
  CHECK(cache.live_bytes() == one);
  CHECK(cache.peak_live_bytes() == 2 * one);
  cache.reset_peak();
  CHECK(cache.peak_live_bytes() == one);
  void* c = cache.allocate(std::size_t{1} << 20);  // reused from the cache: live again
  CHECK(c == a);
  CHECK(cache.live_bytes() == 2 * one);
  void* small = cache.allocate(100);  // small blocks are not counted
  CHECK(cache.live_bytes() == 2 * one);
  cache.deallocate(small);
  cache.deallocate(b);
  cache.deallocate(c);
  CHECK(cache.live_bytes() == 0);
  CHECK(cache.peak_live_bytes() == 2 * one);
}

TEST_CASE("block cache: allocated_bytes counts a live tensor") {
  const std::size_t before = selfsup::core::cpu::allocated_bytes();
  {
    const auto t = selfsup::core::Tensor::zeros({1 << 20});
    CHECK(selfsup::core::cpu::allocated_bytes() >= before + (std::size_t{4} << 20));
    CHECK(selfsup::core::cpu::peak_allocated_bytes() >= selfsup::core::cpu::allocated_bytes());
  }
  CHECK(selfsup::core::cpu::allocated_bytes() == before);
}
