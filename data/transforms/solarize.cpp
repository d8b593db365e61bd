#include "data/transforms/solarize.h"

#include "core/error.h"

namespace selfsup::data {

Image solarize(Image image, double threshold) {
  check_channels("solarize", image, {1, 3});
  if (!(threshold <= 1.0))  // the message is only built on failure (hot path)
    core::check(false, "solarize: threshold should be at most 1 for a float image, got " + std::to_string(threshold));
  // torch.where(img >= threshold, 1 - img, img) with the Python float threshold compared in f32.
  const auto t = static_cast<float>(threshold);
  for (float& v : image.pixels) v = v >= t ? 1.0f - v : v;
  return image;
}

RandomSolarize::RandomSolarize(double threshold, double p) : threshold_(threshold), p_(p) {
  core::check(p >= 0.0 && p <= 1.0, "RandomSolarize: p must be in [0, 1], got " + std::to_string(p));
  core::check(threshold <= 1.0, "RandomSolarize: threshold should be at most 1, got " + std::to_string(threshold));
}

Image RandomSolarize::operator()(Image image, core::Generator& gen) const {
  return bernoulli(gen, p_) ? solarize(std::move(image), threshold_) : image;
}

std::string RandomSolarize::name() const {
  return "RandomSolarize(threshold=" + std::to_string(threshold_) + ", p=" + std::to_string(p_) + ")";
}

}  // namespace selfsup::data
