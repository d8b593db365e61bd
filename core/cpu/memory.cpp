// CPU memory: 64-byte aligned allocation through the block cache, strided copies with dtype
// conversion, fill.
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/cpu/block_cache.h"
#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided.h"
#include "core/error.h"

namespace selfsup::core::cpu {

CpuBackend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

namespace {

BlockCache& block_cache() {
  static BlockCache cache([] {
    const char* env = std::getenv("SELFSUP_CPU_CACHE_MB");
    const long mb = env != nullptr ? std::strtol(env, nullptr, 10) : 2048;
    return static_cast<std::size_t>(mb < 0 ? 0 : mb) << 20;
  }());
  return cache;
}

}  // namespace

void* CpuBackend::allocate(std::size_t bytes) {
  void* p = block_cache().allocate(bytes);
  if (p == nullptr) throw DeviceError("cpu allocate: out of memory asking for " + std::to_string(bytes) + " bytes");
  return p;
}

void CpuBackend::deallocate(void* ptr) noexcept { block_cache().deallocate(ptr); }

void empty_cache() { block_cache().release_all(); }

std::size_t cached_bytes() { return block_cache().cached_bytes(); }
std::size_t allocated_bytes() { return block_cache().live_bytes(); }
std::size_t peak_allocated_bytes() { return block_cache().peak_live_bytes(); }
void reset_peak_allocated_bytes() { block_cache().reset_peak(); }

void CpuBackend::copy_to_host(const void* src, void* host_dst, std::size_t bytes) {
  std::memcpy(host_dst, src, bytes);
}

void CpuBackend::copy_from_host(const void* host_src, void* dst, std::size_t bytes) {
  std::memcpy(dst, host_src, bytes);
}

void CpuBackend::copy(const Tensor& src, Tensor& dst) {
  check<ShapeError>(src.shape() == dst.shape(), "copy: source shape " + to_string(src.shape()) +
                                                    " differs from destination " + to_string(dst.shape()));
  check<ValueError>(dst.is_contiguous(), "copy: destination must be contiguous");
  dispatch_all(src.dtype(), [&]<typename S>() {
    dispatch_all(dst.dtype(), [&]<typename D>() {
      const S* s = static_cast<const S*>(src.storage()->data()) + src.offset();
      D* d = dst.data<D>();
      if (src.is_contiguous()) {
        if constexpr (std::is_same_v<S, D>) {
          std::memcpy(d, s, static_cast<std::size_t>(dst.numel()) * sizeof(D));
        } else {
          parallel_chunks(dst.numel(), [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) d[i] = static_cast<D>(s[i]);
          });
        }
        return;
      }
      const Strides dst_strides = contiguous_strides(dst.shape());
      for_each_row<2>(dst.shape(), {&src.strides(), &dst_strides},
                      [&](const auto& off, std::int64_t n, const auto& inc) {
                        const S* sp = s + off[0];
                        D* dp = d + off[1];
                        for (std::int64_t i = 0; i < n; ++i) dp[i] = static_cast<D>(sp[i * inc[0]]);
                      });
    });
  });
}

void CpuBackend::fill(Tensor& dst, double value) {
  dispatch_all(dst.dtype(), [&]<typename T>() {
    T* d = dst.data<T>();
    const T v = static_cast<T>(value);
    parallel_chunks(dst.numel(), [&](std::int64_t b, std::int64_t e) { std::fill(d + b, d + e, v); });
  });
}

}  // namespace selfsup::core::cpu
