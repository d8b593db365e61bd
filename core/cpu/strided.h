// Row-wise iteration over K tensors that share one shape but have their own strides (stride 0
// for broadcast dims). The last dim is the "row"; rows are distributed over OpenMP threads, and
// each element is visited exactly once, so results never depend on the thread count.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace selfsup::core::cpu {

/// Elements per parallel task: below this, a single thread is faster.
constexpr std::int64_t kParallelGrain = 32768;

/// row_fn(offsets, length, inner_strides): offsets (in elements, from each tensor's data<T>()
/// pointer) of the row start, the row length and each tensor's stride along the row.
/// Merges adjacent dims that every tensor can walk as one (stride[d] == stride[d+1] * size[d+1])
/// and drops size-1 dims, so broadcast rows are as long as possible (a per-channel [C, 1, 1]
/// operand over [N, C, H, W] becomes rows of H * W).
template <std::size_t K>
void coalesce_dims(Shape& shape, std::array<Strides, K>& strides) {
  Shape out_shape;
  std::array<Strides, K> out_strides;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    for (std::size_t k = 0; merge && k < K; ++k) merge = out_strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      out_shape.back() *= shape[d];
      for (std::size_t k = 0; k < K; ++k) out_strides[k].back() = strides[k][d];
    } else {
      out_shape.push_back(shape[d]);
      for (std::size_t k = 0; k < K; ++k) out_strides[k].push_back(strides[k][d]);
    }
  }
  shape = std::move(out_shape);
  strides = std::move(out_strides);
}

/// row_fn(offsets, length, inner_strides): offsets (in elements, from each tensor's data<T>()
/// pointer) of the row start, the row length and each tensor's stride along the row.
template <std::size_t K, typename RowFn>
void for_each_row(const Shape& full_shape, const std::array<const Strides*, K>& full_strides, RowFn&& row_fn) {
  const std::int64_t total = numel(full_shape);
  if (total == 0) return;
  Shape shape = full_shape;
  std::array<Strides, K> strides;
  for (std::size_t k = 0; k < K; ++k) strides[k] = *full_strides[k];
  coalesce_dims<K>(shape, strides);
  const std::size_t rank = shape.size();
  if (rank == 0) {
    std::array<std::int64_t, K> zero{};
    std::array<std::int64_t, K> one{};
    one.fill(1);
    row_fn(zero, std::int64_t{1}, one);
    return;
  }
  const std::int64_t inner = shape[rank - 1];
  const std::int64_t rows = total / inner;
  std::array<std::int64_t, K> inner_strides;
  for (std::size_t k = 0; k < K; ++k) inner_strides[k] = strides[k][rank - 1];
  // Long rows are cut into pieces so that a single long row still spreads over the threads.
  const std::int64_t pieces = inner >= 2 * kParallelGrain ? (inner + kParallelGrain - 1) / kParallelGrain : 1;
  const std::int64_t piece_len = (inner + pieces - 1) / pieces;
  auto run_unit = [&](std::int64_t unit) {
    const std::int64_t row = unit / pieces;
    const std::int64_t start = (unit % pieces) * piece_len;
    std::array<std::int64_t, K> offsets{};
    std::int64_t rest = row;
    for (std::size_t d = rank - 1; d-- > 0;) {
      const std::int64_t i = rest % shape[d];
      rest /= shape[d];
      for (std::size_t k = 0; k < K; ++k) offsets[k] += i * strides[k][d];
    }
    for (std::size_t k = 0; k < K; ++k) offsets[k] += start * inner_strides[k];
    row_fn(offsets, std::min(piece_len, inner - start), inner_strides);
  };
  const std::int64_t units = rows * pieces;
  if (total < kParallelGrain || units == 1) {
    for (std::int64_t u = 0; u < units; ++u) run_unit(u);
  } else {
#pragma omp parallel for schedule(static)
    for (std::int64_t u = 0; u < units; ++u) run_unit(u);
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
