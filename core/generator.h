// Seeded counter-based random numbers (Philox-4x32-10). Element i of a draw uses counter
// (offset + i), so results do not depend on thread count or device, and a draw of n elements
// advances the generator by exactly n counters.
#pragma once

#include <array>
#include <cstdint>

namespace selfsup::core {

/// Philox-4x32 with 10 rounds: four 32-bit words from a 64-bit key and a 64-bit counter.
std::array<std::uint32_t, 4> philox4x32(std::uint64_t key, std::uint64_t counter);

/// Uniform in [0, 1) from one Philox block: 53 random bits for doubles, 24 for floats.
double uniform_f64(const std::array<std::uint32_t, 4>& block);
float uniform_f32(const std::array<std::uint32_t, 4>& block);
/// Standard normal by Box-Muller from one Philox block (both uniforms from the same block).
double normal_f64(const std::array<std::uint32_t, 4>& block);

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  std::uint64_t offset() const { return offset_; }
  void set_state(std::uint64_t seed, std::uint64_t offset) { seed_ = seed, offset_ = offset; }
  /// Reserves `count` counters and returns the first one.
  std::uint64_t advance(std::uint64_t count) {
    const auto first = offset_;
    offset_ += count;
    return first;
  }
  /// One uniform double in [0, 1) (consumes one counter); handy for scalar decisions.
  double next_uniform() { return uniform_f64(philox4x32(seed_, advance(1))); }

 private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

/// The process-wide generator used when none is passed; seeded with 0 until `manual_seed`.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace selfsup::core
