#include <array>
#include <omp.h>

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/error.h"

#ifdef SELFSUP_USE_OPENBLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace selfsup::core {
namespace {

std::array<Backend*, 2>& registry() {
  static std::array<Backend*, 2> backends{&cpu::cpu_backend(), nullptr};
  return backends;
}

}  // namespace

Backend& backend_for(Device device) {
  Backend* backend = registry()[static_cast<std::size_t>(device.kind)];
  check<DeviceError>(backend != nullptr, "backend_for: no backend is available for device " +
                                             device.to_string() +
                                             " (built without CUDA, or no device present)");
  return *backend;
}

void register_backend(DeviceKind kind, Backend* backend) {
  registry()[static_cast<std::size_t>(kind)] = backend;
}

void set_num_threads(int n) {
  check(n >= 0, "set_num_threads: thread count must be >= 0, got " + std::to_string(n));
  static const int default_threads = omp_get_max_threads();
  omp_set_num_threads(n == 0 ? default_threads : n);
#ifdef SELFSUP_USE_OPENBLAS
  openblas_set_num_threads(n == 0 ? default_threads : n);
#endif
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace selfsup::core
