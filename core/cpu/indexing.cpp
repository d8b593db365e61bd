// index_select / index_add / gather / scatter_add over [outer, n, inner] views. Indices are
// range-checked by core/ops.cpp before they get here. Accumulating primitives run their
// scatter serially per outer block, so duplicate indices add up in a fixed order.
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided.h"
#include "core/error.h"

namespace selfsup::core::cpu {

void CpuBackend::index_select(const Tensor& x, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                              Tensor& out) {
  dispatch_all(x.dtype(), [&]<typename T>() {
    const T* xp = x.data<T>();
    const std::int64_t* ip = idx.data<std::int64_t>();
    T* op = out.data<T>();
    const std::int64_t n = outer == 0 ? 0 : x.numel() / (outer * inner == 0 ? 1 : outer * inner);
    const std::int64_t m = idx.numel();
#pragma omp parallel for collapse(2) schedule(static) if (outer * m * inner >= kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < m; ++j)
        std::memcpy(op + (o * m + j) * inner, xp + (o * n + ip[j]) * inner, sizeof(T) * static_cast<std::size_t>(inner));
  });
}

void CpuBackend::index_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx, const Tensor& src) {
  dispatch_float(out.dtype(), "index_add", [&]<typename T>() {
    T* op = out.data<T>();
    const T* sp = src.data<T>();
    const std::int64_t* ip = idx.data<std::int64_t>();
    const std::int64_t n = out.numel() / (outer * inner == 0 ? 1 : outer * inner);
    const std::int64_t m = idx.numel();
#pragma omp parallel for schedule(static) if (outer * m * inner >= kParallelGrain && outer > 1)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < m; ++j) {
        T* dst = op + (o * n + ip[j]) * inner;
        const T* s = sp + (o * m + j) * inner;
        for (std::int64_t i = 0; i < inner; ++i) dst[i] += s[i];
      }
  });
}

void CpuBackend::gather(const Tensor& x, std::int64_t outer, std::int64_t inner, const Tensor& idx, Tensor& out) {
  dispatch_all(x.dtype(), [&]<typename T>() {
    const T* xp = x.data<T>();
    const std::int64_t* ip = idx.data<std::int64_t>();
    T* op = out.data<T>();
    const std::int64_t n = x.numel() / (outer * inner == 0 ? 1 : outer * inner);
    const std::int64_t m = idx.numel() / (outer * inner == 0 ? 1 : outer * inner);
#pragma omp parallel for schedule(static) if (idx.numel() >= kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < m; ++j)
        for (std::int64_t i = 0; i < inner; ++i) {
          const std::int64_t at = (o * m + j) * inner + i;
          op[at] = xp[(o * n + ip[at]) * inner + i];
        }
  });
}

void CpuBackend::scatter_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                             const Tensor& src) {
  dispatch_float(out.dtype(), "scatter_add", [&]<typename T>() {
    T* op = out.data<T>();
    const T* sp = src.data<T>();
    const std::int64_t* ip = idx.data<std::int64_t>();
    const std::int64_t n = out.numel() / (outer * inner == 0 ? 1 : outer * inner);
    const std::int64_t m = idx.numel() / (outer * inner == 0 ? 1 : outer * inner);
#pragma omp parallel for schedule(static) if (idx.numel() >= kParallelGrain && outer > 1)
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < m; ++j)
        for (std::int64_t i = 0; i < inner; ++i) {
          const std::int64_t at = (o * m + j) * inner + i;
          op[(o * n + ip[at]) * inner + i] += sp[at];
        }
  });
}

}  // namespace selfsup::core::cpu
