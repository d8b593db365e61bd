// Normalize (torchvision F.normalize): (x - mean[c]) / std[c] per channel, in f32.
#pragma once

#include <vector>

#include "data/transforms/transform.h"

namespace selfsup::data {

/// mean/std have one entry per channel (or one entry used for every channel).
Image normalize(Image image, const std::vector<double>& mean, const std::vector<double>& std);

class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  std::vector<double> mean_, std_;
};

}  // namespace selfsup::data
