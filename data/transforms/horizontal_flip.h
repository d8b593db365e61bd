// Horizontal flip (torchvision F.hflip / RandomHorizontalFlip): reverses the W axis of [C, H, W].
#pragma once

#include "data/transforms/transform.h"

namespace selfsup::data {

/// image[..., ::-1] along W.
Image hflip(Image image);

/// Flips with probability p (one uniform u, flips when u < p).
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  double p_;
};

}  // namespace selfsup::data
