// Reductions over the middle axis of [outer, reduce, inner] views, argmax and softmax.
// Each output element is reduced by one thread in index order, so results are bitwise the same
// for any thread count. Contiguous sums use 8 fixed lanes, combined in order.
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided.h"
#include "core/error.h"

namespace selfsup::core::cpu {
namespace {

// out[o, i] = op_r x[o, r, i]. For inner == 1 the reduce axis is contiguous: accumulate in
// 8 fixed lanes (vectorisable, fixed order) and combine the lanes in order.
template <typename T, typename Combine>
void reduce_kernel(const T* x, std::int64_t outer, std::int64_t size, std::int64_t inner, T init, Combine combine,
                   T* out) {
  const std::int64_t work = outer * size * inner;
  auto reduce_row = [&](std::int64_t o) {
    const T* row = x + o * size;
    constexpr int kLanes = 8;
    T lanes[kLanes];
    for (T& l : lanes) l = init;
    std::int64_t r = 0;
    for (; r + kLanes <= size; r += kLanes)
      for (int l = 0; l < kLanes; ++l) lanes[l] = combine(lanes[l], row[r + l]);
    T acc = init;
    for (const T l : lanes) acc = combine(acc, l);
    for (; r < size; ++r) acc = combine(acc, row[r]);
    out[o] = acc;
  };
  auto reduce_block = [&](std::int64_t o) {
    T* dst = out + o * inner;
    for (std::int64_t i = 0; i < inner; ++i) dst[i] = init;
    for (std::int64_t r = 0; r < size; ++r) {
      const T* src = x + (o * size + r) * inner;
      for (std::int64_t i = 0; i < inner; ++i) dst[i] = combine(dst[i], src[i]);
    }
  };
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (work >= kParallelGrain && outer > 1)
    for (std::int64_t o = 0; o < outer; ++o) reduce_row(o);
  } else if (outer > 1) {
#pragma omp parallel for schedule(static) if (work >= kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o) reduce_block(o);
  } else {
    // One outer block: split the inner axis across threads instead.
#pragma omp parallel for schedule(static) if (work >= kParallelGrain)
    for (std::int64_t i = 0; i < inner; ++i) {
      T acc = init;
      for (std::int64_t r = 0; r < size; ++r) acc = combine(acc, x[r * inner + i]);
      out[i] = acc;
    }
  }
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& x, std::int64_t outer, std::int64_t size, std::int64_t inner,
                        Tensor& out) {
  dispatch_float(x.dtype(), "reduce", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* op_ = out.data<T>();
    switch (op) {
      case ReduceOp::sum:
        return reduce_kernel<T>(xp, outer, size, inner, T(0), [](T a, T b) { return a + b; }, op_);
      case ReduceOp::max:
        return reduce_kernel<T>(xp, outer, size, inner, -std::numeric_limits<T>::infinity(),
                                [](T a, T b) { return std::isnan(a) || a >= b ? a : b; }, op_);
      case ReduceOp::min:
        return reduce_kernel<T>(xp, outer, size, inner, std::numeric_limits<T>::infinity(),
                                [](T a, T b) { return std::isnan(a) || a <= b ? a : b; }, op_);
    }
  });
}

void CpuBackend::argmax(const Tensor& x, std::int64_t outer, std::int64_t size, std::int64_t inner, Tensor& out) {
  dispatch_float(x.dtype(), "argmax", [&]<typename T>() {
    const T* xp = x.data<T>();
    std::int64_t* op = out.data<std::int64_t>();
#pragma omp parallel for schedule(static) if (outer * size * inner >= kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::int64_t i = 0; i < inner; ++i) {
        std::int64_t best = 0;
        T best_value = xp[o * size * inner + i];
        for (std::int64_t r = 1; r < size && !std::isnan(best_value); ++r) {
          const T v = xp[(o * size + r) * inner + i];
          if (v > best_value || std::isnan(v)) best_value = v, best = r;
        }
        op[o * inner + i] = best;
      }
    }
  });
}

void CpuBackend::softmax(const Tensor& x, std::int64_t outer, std::int64_t size, std::int64_t inner, bool log,
                         Tensor& out) {
  dispatch_float(x.dtype(), "softmax", [&]<typename T>() {
    const T* xp = x.data<T>();
    T* yp = out.data<T>();
#pragma omp parallel for schedule(static) if (outer * size * inner >= kParallelGrain)
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::int64_t i = 0; i < inner; ++i) {
        const T* src = xp + o * size * inner + i;
        T* dst = yp + o * size * inner + i;
        T m = -std::numeric_limits<T>::infinity();
        for (std::int64_t r = 0; r < size; ++r) m = std::max(m, src[r * inner]);
        if (!std::isfinite(m)) m = 0;  // all -inf row: avoid inf - inf
        T total = 0;
        for (std::int64_t r = 0; r < size; ++r) {
          const T e = std::exp(src[r * inner] - m);
          total += e;
          if (!log) dst[r * inner] = e;
        }
        if (log) {
          const T lse = m + std::log(total);
          for (std::int64_t r = 0; r < size; ++r) dst[r * inner] = src[r * inner] - lse;
        } else {
          const T inv = T(1) / total;
          for (std::int64_t r = 0; r < size; ++r) dst[r * inner] *= inv;
        }
      }
    }
  });
}

}  // namespace selfsup::core::cpu
