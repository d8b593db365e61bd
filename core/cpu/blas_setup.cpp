// Start-up fix-up for OpenBLAS's run-time kernel choice. Debian's OpenBLAS 0.3.21 is built with
// DYNAMIC_ARCH and picks kernels from the CPU model number. CPUs it does not know get weaker
// kernels than they can run: Emerald Rapids (family 6 model 207) falls back to "Prescott", its
// SSE3 kernels (13 vs 80-100 GFLOP/s per core with its AVX-512 "SkylakeX" kernels), and AMD Zen 5
// (family 26) to "Haswell", its AVX2 kernels (110 vs 205-210 GFLOP/s per core for SGEMM, measured
// on an EPYC with AVX-512). When the kernels in use are of a lower tier (SSE < AVX2 < AVX-512) than
// the CPU supports, this re-runs OpenBLAS's own dispatch with OPENBLAS_CORETYPE set, as if the
// user had exported it.
// NOTE: runs during static initialisation, before any BLAS call can be in flight. A user-set
// OPENBLAS_CORETYPE is always respected. Nothing here runs without SELFSUP_USE_OPENBLAS.
#include "core/cpu/blas_setup.h"

#include <cstdlib>
#include <mutex>
#include <string>

#ifdef SELFSUP_USE_OPENBLAS
extern "C" {
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
// Exported by DYNAMIC_ARCH builds only, hence weak: null in single-target builds.
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}
#endif

namespace selfsup::core::cpu {

int cpu_vector_tier() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512cd")) {
    return 2;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
  return 0;
}

int blas_kernel_tier(const std::string& name) {
  for (const char* avx512 : {"SkylakeX", "Cooperlake", "SapphireRapids"}) {
    if (name == avx512) return 2;
  }
  for (const char* avx2 : {"Haswell", "Zen"}) {
    if (name == avx2) return 1;
  }
  return 0;
}

namespace {

#ifdef SELFSUP_USE_OPENBLAS
bool fix_openblas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return false;  // the user chose
  if (gotoblas_dynamic_init == nullptr || gotoblas_dynamic_quit == nullptr) return false;
  const char* name = openblas_get_corename();
  if (name == nullptr) return false;
  const int tier = cpu_vector_tier();
  if (blas_kernel_tier(name) >= tier) return false;  // detection did its job
  const char* coretype = tier == 2 ? "SkylakeX" : "Haswell";
  setenv("OPENBLAS_CORETYPE", coretype, /*overwrite=*/0);
  gotoblas_dynamic_quit();
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");  // leave child processes to their own detection
  return true;
}

#endif

// Static initialisation of this translation unit: before main, after OpenBLAS's own start-up.
const bool kSetupDone = [] {
#ifdef SELFSUP_USE_OPENBLAS
  fix_openblas_kernels();
#endif
  return true;
}();

}  // namespace

bool blas_ready() { return kSetupDone; }

// Holds may overlap (two threads each running a conv): the first one saves OpenBLAS's thread
// count and the last one restores it.
namespace {
std::mutex hold_mutex;
int hold_depth = 0;
int held_threads = 1;
}  // namespace

SingleThreadedBlas::SingleThreadedBlas() {
#ifdef SELFSUP_USE_OPENBLAS
  const std::lock_guard lock(hold_mutex);
  if (hold_depth++ == 0) {
    held_threads = openblas_get_num_threads();
    if (held_threads != 1) openblas_set_num_threads(1);
  }
#endif
}

SingleThreadedBlas::~SingleThreadedBlas() {
#ifdef SELFSUP_USE_OPENBLAS
  const std::lock_guard lock(hold_mutex);
  if (--hold_depth == 0 && held_threads != 1) openblas_set_num_threads(held_threads);
#endif
}

std::string blas_kernel_name() {
#ifdef SELFSUP_USE_OPENBLAS
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
#else
  return "eigen";
#endif
}

}  // namespace selfsup::core::cpu
