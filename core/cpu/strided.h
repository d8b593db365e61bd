// Row-wise iteration over K tensors that share one shape but have their own strides (stride 0
// for broadcast dims). The last dim is the "row"; rows are distributed over OpenMP threads, and
// each element is visited exactly once, so results never depend on the thread count.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace selfsup::core::cpu {

/// Elements per parallel task: below this, a single thread is faster.
constexpr std::int64_t kParallelGrain = 32768;

/// row_fn(offsets, length, inner_strides): offsets (in elements, from each tensor's data<T>()
/// pointer) of the row start, the row length and each tensor's stride along the row.
template <std::size_t K, typename RowFn>
void for_each_row(const Shape& shape, const std::array<const Strides*, K>& strides, RowFn&& row_fn) {
  const std::int64_t total = numel(shape);
  if (total == 0) return;
  const std::size_t rank = shape.size();
  if (rank == 0) {
    std::array<std::int64_t, K> zero{};
    std::array<std::int64_t, K> one{};
    row_fn(zero, std::int64_t{1}, one);
    return;
  }
  const std::int64_t inner = shape[rank - 1];
  const std::int64_t rows = total / inner;
  std::array<std::int64_t, K> inner_strides;
  for (std::size_t k = 0; k < K; ++k) inner_strides[k] = (*strides[k])[rank - 1];
  auto run_row = [&](std::int64_t row) {
    std::array<std::int64_t, K> offsets{};
    std::int64_t rest = row;
    for (std::size_t d = rank - 1; d-- > 0;) {
      const std::int64_t i = rest % shape[d];
      rest /= shape[d];
      for (std::size_t k = 0; k < K; ++k) offsets[k] += i * (*strides[k])[d];
    }
    row_fn(offsets, inner, inner_strides);
  };
  if (total < kParallelGrain || rows == 1) {
    for (std::int64_t r = 0; r < rows; ++r) run_row(r);
  } else {
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) run_row(r);
  }
}

/// Calls chunk_fn(begin, end) over [0, n) in parallel chunks of at least kParallelGrain.
template <typename ChunkFn>
void parallel_chunks(std::int64_t n, ChunkFn&& chunk_fn) {
  if (n < 2 * kParallelGrain) {
    if (n > 0) chunk_fn(std::int64_t{0}, n);
    return;
  }
  const std::int64_t chunks = (n + kParallelGrain - 1) / kParallelGrain;
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t begin = c * kParallelGrain;
    chunk_fn(begin, std::min(n, begin + kParallelGrain));
  }
}

}  // namespace selfsup::core::cpu
