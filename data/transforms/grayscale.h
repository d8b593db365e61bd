// Grayscale (torchvision F.rgb_to_grayscale / RandomGrayscale), float path:
// L = 0.2989 R + 0.587 G + 0.114 B (f32), replicated to `output_channels`; a 1-channel input is
// copied unchanged.
#pragma once

#include "data/transforms/transform.h"

namespace selfsup::data {

/// [3 or 1, H, W] -> [output_channels, H, W] with output_channels 1 or 3.
Image rgb_to_grayscale(const Image& image, std::int64_t output_channels = 1);

/// Converts to grayscale (keeping the channel count) with probability p (u < p).
class RandomGrayscale : public Transform {
 public:
  explicit RandomGrayscale(double p = 0.1);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  double p_;
};

}  // namespace selfsup::data
