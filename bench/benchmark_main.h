// The main() of the Google Benchmark programs: like BENCHMARK_MAIN(), plus the context every
// selfsup figure needs to be read (the OpenBLAS kernel family and the thread count), printed in
// the header and written to --benchmark_out files.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "core/backend.h"
#include "core/cpu/blas_setup.h"

namespace selfsup::bench {

inline int run_benchmarks(int argc, char** argv) {
  benchmark::AddCustomContext("blas_kernels", core::cpu::blas_kernel_name());
  benchmark::AddCustomContext("threads", std::to_string(core::get_num_threads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace selfsup::bench
