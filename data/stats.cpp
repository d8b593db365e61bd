#include "data/stats.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace selfsup::data {

Normalization Normalization::cifar10() { return {{0.4914, 0.4822, 0.4465}, {0.2470, 0.2435, 0.2616}}; }
Normalization Normalization::cifar100() { return {{0.5071, 0.4865, 0.4409}, {0.2673, 0.2564, 0.2762}}; }
Normalization Normalization::fashion_mnist() { return {{0.2860}, {0.3530}}; }
Normalization Normalization::mnist() { return {{0.1307}, {0.3081}}; }
Normalization Normalization::imagenet() { return {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}}; }

std::string Normalization::to_string() const {
  std::ostringstream s;
  s << "mean=[";
  for (std::size_t i = 0; i < mean.size(); ++i) s << (i ? ", " : "") << mean[i];
  s << "] std=[";
  for (std::size_t i = 0; i < std.size(); ++i) s << (i ? ", " : "") << std[i];
  s << "]";
  return s.str();
}

Normalization compute_normalization(const Dataset& dataset, std::int64_t max_samples) {
  const std::int64_t n = max_samples < 0 ? dataset.size() : std::min(max_samples, dataset.size());
  core::check(n > 0, "compute_normalization: the dataset is empty");
  std::vector<double> sum, sum_sq;
  std::vector<std::int64_t> count;
  std::int64_t channels = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    const Image image = dataset.get(i).image;
    if (channels < 0) {
      channels = image.channels;
      sum.assign(static_cast<std::size_t>(channels), 0.0);
      sum_sq = sum;
      count.assign(static_cast<std::size_t>(channels), 0);
    }
    core::check(image.channels == channels, "compute_normalization: sample " + std::to_string(i) + " has shape " +
                                                image.shape_string() + ", expected " + std::to_string(channels) + " channels");
    for (std::int64_t c = 0; c < channels; ++c) {
      const float* p = image.channel(c);
      double s = 0.0, s2 = 0.0;
      for (std::int64_t k = 0; k < image.plane(); ++k) s += p[k], s2 += static_cast<double>(p[k]) * p[k];
      sum[static_cast<std::size_t>(c)] += s;
      sum_sq[static_cast<std::size_t>(c)] += s2;
      count[static_cast<std::size_t>(c)] += image.plane();
    }
  }
  Normalization out;
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto k = static_cast<std::size_t>(c);
    const double mean = sum[k] / static_cast<double>(count[k]);
    const double var = std::max(0.0, sum_sq[k] / static_cast<double>(count[k]) - mean * mean);
    out.mean.push_back(mean);
    out.std.push_back(std::sqrt(var));
  }
  return out;
}

}  // namespace selfsup::data
