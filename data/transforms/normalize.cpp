#include "data/transforms/normalize.h"

#include <sstream>

#include "core/error.h"

namespace selfsup::data {
namespace {

void check_stats(const char* op, const std::vector<double>& mean, const std::vector<double>& std) {
  if (!(!mean.empty() && mean.size() == std.size()))  // the message is only built on failure (hot path)
    core::check(false, std::string(op) + ": mean and std must be non-empty and of equal length, got " +
                                                              std::to_string(mean.size()) + " and " + std::to_string(std.size()));
  for (const double s : std)
    if (!(static_cast<float>(s) != 0.0f))  // the message is only built on failure (hot path)
      core::check(false, std::string(op) + ": std evaluated to zero, leading to division by zero");
}

}  // namespace

Image normalize(Image image, const std::vector<double>& mean, const std::vector<double>& std) {
  check_stats("normalize", mean, std);
  if (!(mean.size() == 1 || static_cast<std::int64_t>(mean.size()) == image.channels))  // the message is only built on failure (hot path)
    core::check(false, "normalize: " + std::to_string(mean.size()) + " mean/std values for an image of shape " + image.shape_string());
  for (std::int64_t c = 0; c < image.channels; ++c) {
    const std::size_t k = mean.size() == 1 ? 0 : static_cast<std::size_t>(c);
    const auto m = static_cast<float>(mean[k]), s = static_cast<float>(std[k]);
    float* p = image.channel(c);
    for (std::int64_t i = 0; i < image.plane(); ++i) p[i] = (p[i] - m) / s;
  }
  return image;
}

Normalize::Normalize(std::vector<double> mean, std::vector<double> std) : mean_(std::move(mean)), std_(std::move(std)) {
  check_stats("Normalize", mean_, std_);
}

Image Normalize::operator()(Image image, core::Generator&) const { return normalize(std::move(image), mean_, std_); }

std::string Normalize::name() const {
  std::ostringstream s;
  s << "Normalize(mean=[";
  for (std::size_t i = 0; i < mean_.size(); ++i) s << (i ? ", " : "") << mean_[i];
  s << "], std=[";
  for (std::size_t i = 0; i < std_.size(); ++i) s << (i ? ", " : "") << std_[i];
  s << "])";
  return s.str();
}

}  // namespace selfsup::data
