// Solarize (torchvision F.solarize / RandomSolarize), float path: x >= threshold ? 1 - x : x.
#pragma once

#include "data/transforms/transform.h"

namespace selfsup::data {

Image solarize(Image image, double threshold);

/// Solarizes with probability p (u < p).
class RandomSolarize : public Transform {
 public:
  RandomSolarize(double threshold, double p = 0.5);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  double threshold_, p_;
};

}  // namespace selfsup::data
