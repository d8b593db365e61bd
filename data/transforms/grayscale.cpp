#include "data/transforms/grayscale.h"

#include <algorithm>

#include "core/error.h"

namespace selfsup::data {

Image rgb_to_grayscale(const Image& image, std::int64_t output_channels) {
  check_channels("rgb_to_grayscale", image, {1, 3});
  if (!(output_channels == 1 || output_channels == 3))  // the message is only built on failure (hot path)
    core::check(false, "rgb_to_grayscale: output_channels must be 1 or 3, got " + std::to_string(output_channels));
  Image out(output_channels, image.height, image.width);
  const std::int64_t n = image.plane();
  float* l = out.channel(0);
  if (image.channels == 3) {
    const float *r = image.channel(0), *g = image.channel(1), *b = image.channel(2);
    for (std::int64_t i = 0; i < n; ++i) l[i] = 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i];
  } else {
    std::copy(image.channel(0), image.channel(0) + n, l);
  }
  for (std::int64_t c = 1; c < output_channels; ++c) std::copy(l, l + n, out.channel(c));
  return out;
}

RandomGrayscale::RandomGrayscale(double p) : p_(p) {
  core::check(p >= 0.0 && p <= 1.0, "RandomGrayscale: p must be in [0, 1], got " + std::to_string(p));
}

Image RandomGrayscale::operator()(Image image, core::Generator& gen) const {
  if (!bernoulli(gen, p_)) return image;
  return rgb_to_grayscale(image, image.channels);
}

std::string RandomGrayscale::name() const { return "RandomGrayscale(p=" + std::to_string(p_) + ")"; }

}  // namespace selfsup::data
