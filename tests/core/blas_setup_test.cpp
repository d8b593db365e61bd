// core/cpu/blas_setup.cpp: OpenBLAS must run kernels of the vector tier the CPU supports (0.3.21
// falls back to SSE3 "Prescott" or AVX2 "Haswell" kernels on CPU models it does not know), and
// holding it single-threaded must not change GEMM results.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/backend.h"
#include "core/cpu/blas_setup.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"

namespace selfsup::core {
namespace {

TEST_CASE("blas_setup: kernel families map to their vector tiers") {
  CHECK(cpu::blas_kernel_tier("Prescott") == 0);
  CHECK(cpu::blas_kernel_tier("Sandybridge") == 0);
  CHECK(cpu::blas_kernel_tier("Haswell") == 1);
  CHECK(cpu::blas_kernel_tier("Zen") == 1);
  CHECK(cpu::blas_kernel_tier("SkylakeX") == 2);
  CHECK(cpu::blas_kernel_tier("Cooperlake") == 2);
  CHECK(cpu::blas_kernel_tier("SapphireRapids") == 2);
}

TEST_CASE("blas_setup: OpenBLAS runs the widest vector kernels the CPU supports") {
  const std::string name = cpu::blas_kernel_name();
  INFO("kernel family: " << name << ", CPU tier " << cpu::cpu_vector_tier());
  CHECK_FALSE(name.empty());
  if (name == "eigen") return;  // a build without OpenBLAS
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice stands
  CHECK(cpu::blas_kernel_tier(name) >= cpu::cpu_vector_tier());
}

// scripts/blas_env.sh decides in bash, before any program runs, whether an OPENBLAS_CORETYPE pin
// is below the CPU; its two tier functions must agree with the library's.
std::string bash_output(const std::string& script) {
  const std::string command = "bash -c '" + script + "' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  REQUIRE(pclose(pipe) == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST_CASE("blas_setup: scripts/blas_env.sh has the library's vector tiers") {
  const std::string source = std::string("source ") + SELFSUP_TEST_DATA_DIR + "/../../scripts/blas_env.sh; ";
  CHECK(bash_output(source + "selfsup_cpu_tier") == std::to_string(cpu::cpu_vector_tier()));
  for (const char* name : {"Prescott", "Nehalem", "Sandybridge", "Haswell", "Zen", "SkylakeX", "Cooperlake",
                           "SapphireRapids"}) {
    INFO("kernel family " << name);
    CHECK(bash_output(source + "selfsup_blas_kernel_tier " + name) == std::to_string(cpu::blas_kernel_tier(name)));
  }
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
