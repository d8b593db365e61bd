// Random fills from the counter-based Philox generator: element i uses counter (first + i), so
// the numbers are the same for any thread count (and the CUDA backend uses the same function).
#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided.h"
#include "core/error.h"

namespace selfsup::core::cpu {

void CpuBackend::random(Distribution dist, Generator& gen, double a, double b, Tensor& out) {
  const std::uint64_t key = gen.seed();
  const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(out.numel()));
  dispatch_float(out.dtype(), "random", [&]<typename T>() {
    T* p = out.data<T>();
    parallel_chunks(out.numel(), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) {
        const auto block = philox4x32(key, first + static_cast<std::uint64_t>(i));
        switch (dist) {
          case Distribution::uniform:
            if constexpr (std::is_same_v<T, float>) p[i] = static_cast<T>(a + (b - a) * uniform_f32(block));
            else p[i] = static_cast<T>(a + (b - a) * uniform_f64(block));
            break;
          case Distribution::normal: p[i] = static_cast<T>(a + b * normal_f64(block)); break;
          case Distribution::bernoulli: p[i] = uniform_f64(block) < a ? T(1) : T(0); break;
        }
      }
    });
  });
}

}  // namespace selfsup::core::cpu
