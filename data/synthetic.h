// A procedural dataset for tests, benchmarks and quick runs: each sample is one of ten pattern
// classes (disk, square, triangle, horizontal/vertical/diagonal stripes, checkerboard, ring,
// cross, blob) with random colours, position, size, phase and pixel noise, drawn from a
// Generator seeded by (seed, index). Samples are generated on demand (no memory), label =
// index % num_classes, and pixel values are multiples of 1/255 like decoded 8-bit images.
#pragma once

#include <cstdint>

#include "data/dataset.h"

namespace selfsup::data {

struct SyntheticOptions {
  std::int64_t size = 1024;  // number of samples
  std::int64_t channels = 3;  // 1 or 3
  std::int64_t height = 32, width = 32;
  std::int64_t num_classes = 10;  // at most 10
  std::uint64_t seed = 0;
};

class SyntheticDataset : public Dataset {
 public:
  explicit SyntheticDataset(SyntheticOptions options);
  std::int64_t size() const override { return options_.size; }
  Sample get(std::int64_t index) const override;
  std::int64_t num_classes() const override { return options_.num_classes; }
  std::vector<std::string> class_names() const override;
  std::int64_t label(std::int64_t index) const override;
  const SyntheticOptions& options() const { return options_; }

 private:
  SyntheticOptions options_;
};

/// Mixes (seed, a, b) into a 64-bit generator key (splitmix64 finaliser over the combination).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

}  // namespace selfsup::data
