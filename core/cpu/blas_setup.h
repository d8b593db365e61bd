// OpenBLAS kernel selection fix-up (see blas_setup.cpp). Included by the CPU files that call GEMM
// so the fix-up's translation unit is always linked into programs that use the CPU backend.
#pragma once

#include <string>

namespace selfsup::core::cpu {

/// The OpenBLAS kernel family in use ("SkylakeX", "Haswell", ...), or "eigen" when the build
/// does not use OpenBLAS.
std::string blas_kernel_name();
/// True when the start-up fix-up has run (whether or not it changed anything). GEMM callers
/// reference it once so that its translation unit, and so the fix-up, is linked in.
bool blas_ready();
/// Vector tier of an OpenBLAS kernel family: 2 AVX-512 (SkylakeX, Cooperlake, SapphireRapids),
/// 1 AVX2 (Haswell, Zen), 0 anything older. The fix-up raises the kernels to the CPU's tier.
int blas_kernel_tier(const std::string& name);
/// The CPU's tier on the same scale: 2 with AVX-512 F/BW/VL/DQ/CD, 1 with AVX2 + FMA, else 0.
int cpu_vector_tier();

/// RAII: OpenBLAS runs single-threaded while this lives, for GEMMs issued from inside an OpenMP
/// team (each team thread calls its own GEMM; OpenBLAS threads would oversubscribe the cores).
/// NOTE: OpenBLAS's thread count is process-wide; a GEMM on another thread meanwhile also runs
/// single-threaded (slower, still correct). Overlapping holds nest: the last one restores the
/// count. No-op without OpenBLAS: Eigen's own GEMM stays single-threaded inside a team.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;
};

}  // namespace selfsup::core::cpu
