#include "data/transforms/horizontal_flip.h"

#include <algorithm>

#include "core/error.h"

namespace selfsup::data {

Image hflip(Image image) {
  for (std::int64_t c = 0; c < image.channels; ++c)
    for (std::int64_t y = 0; y < image.height; ++y) {
      float* row = image.channel(c) + y * image.width;
      std::reverse(row, row + image.width);
    }
  return image;
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  core::check(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got " + std::to_string(p));
}

Image RandomHorizontalFlip::operator()(Image image, core::Generator& gen) const {
  return bernoulli(gen, p_) ? hflip(std::move(image)) : image;
}

std::string RandomHorizontalFlip::name() const { return "RandomHorizontalFlip(p=" + std::to_string(p_) + ")"; }

}  // namespace selfsup::data
