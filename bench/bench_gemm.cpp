// SGEMM throughput: selfsup's matmul (the CPU backend: Eigen, handing products to OpenBLAS when
// built with SELFSUP_USE_OPENBLAS) next to Eigen's own kernel compiled here without BLAS.
// Reported as GFLOP/s (2 n^3 per product). Reproduce: scripts/bench_gemm.sh
#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include "bench/benchmark_main.h"
#include "core/ops.h"

namespace {

using selfsup::core::Generator;
using selfsup::core::Tensor;

void set_flops(benchmark::State& state, std::int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(n) * static_cast<double>(n) *
                                                     static_cast<double>(n),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void BM_selfsup_matmul(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Generator gen(1);
  const Tensor a = Tensor::randn({n, n}, gen), b = Tensor::randn({n, n}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(selfsup::core::matmul(a, b, false, false).raw_data());
  set_flops(state, n);
}

void BM_eigen_own_kernel(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  using M = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const M a = M::Random(n, n), b = M::Random(n, n);
  M c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  set_flops(state, n);
}

}  // namespace

BENCHMARK(BM_selfsup_matmul)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_eigen_own_kernel)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) { return selfsup::bench::run_benchmarks(argc, argv); }
