#include "core/generator.h"

#include <cmath>
#include <numbers>

namespace selfsup::core {

std::array<std::uint32_t, 4> philox4x32(std::uint64_t key, std::uint64_t counter) {
  // Constants from Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11).
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c0;
    const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c2;
    const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const std::uint32_t n1 = static_cast<std::uint32_t>(p1);
    const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const std::uint32_t n3 = static_cast<std::uint32_t>(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += kWeyl0, k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

double uniform_f64(const std::array<std::uint32_t, 4>& b) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(b[0]) << 21) ^ (b[1] >> 11);
  return static_cast<double>(bits & ((std::uint64_t{1} << 53) - 1)) * 0x1.0p-53;
}

float uniform_f32(const std::array<std::uint32_t, 4>& b) {
  return static_cast<float>(b[0] >> 8) * 0x1.0p-24f;
}

double normal_f64(const std::array<std::uint32_t, 4>& b) {
  const double u1 = 1.0 - uniform_f64(b);  // (0, 1]: log is finite
  const std::uint64_t bits2 = (static_cast<std::uint64_t>(b[2]) << 21) ^ (b[3] >> 11);
  const double u2 = static_cast<double>(bits2 & ((std::uint64_t{1} << 53) - 1)) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().set_state(seed, 0); }

}  // namespace selfsup::core
