// core/cpu/blas_setup.cpp: OpenBLAS must not fall back to its SSE3 "Prescott" kernels on a CPU
// with AVX2 (0.3.21 does so for CPU models it does not know), and holding it single-threaded
// must not change GEMM results.
#include <doctest/doctest.h>

#include <string>

#include "core/backend.h"
#include "core/cpu/blas_setup.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"

namespace selfsup::core {
namespace {

TEST_CASE("blas_setup: OpenBLAS runs vector kernels the CPU supports") {
  const std::string name = cpu::blas_kernel_name();
  INFO("kernel family: " << name);
  CHECK_FALSE(name.empty());
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) CHECK(name != "Prescott");
#endif
}

TEST_CASE("blas_setup: GEMM results do not change while OpenBLAS is held single-threaded") {
  Generator gen(3);
  const Tensor a = Tensor::randn({96, 130}, gen, DType::f64);
  const Tensor b = Tensor::randn({130, 70}, gen, DType::f64);
  const Tensor threaded = matmul(a, b, false, false);
  Tensor single;
  {
    const cpu::SingleThreadedBlas hold;
    single = matmul(a, b, false, false);
  }
  test::check_allclose(single, threaded, 1e-12, 1e-12, "matmul");
  test::check_allclose(matmul(a, b, false, false), threaded, 1e-12, 1e-12, "matmul after the hold");
}

}  // namespace
}  // namespace selfsup::core
