// Gaussian blur (torchvision F.gaussian_blur / GaussianBlur), float path: a normalised f32 kernel
// exp(-0.5 (x / sigma)^2) on x = linspace(-(k-1)/2, (k-1)/2, k), reflect padding of k/2, applied
// per channel. The 2-d kernel is the outer product of the 1-d ones, so we apply it separably
// (rows then columns); results agree with torchvision's 2-d conv to f32 rounding.
#pragma once

#include <vector>

#include "data/transforms/transform.h"

namespace selfsup::data {

/// The normalised 1-d kernel torchvision uses (computed in f32).
std::vector<float> gaussian_kernel1d(std::int64_t kernel_size, double sigma);
/// kernel sizes must be odd and positive, and each padding (k / 2) smaller than the image side
/// (reflect padding's requirement, as in torch).
Image gaussian_blur(const Image& image, std::int64_t kernel_x, std::int64_t kernel_y, double sigma_x, double sigma_y);

struct GaussianBlurOptions {
  std::int64_t kernel_size = 3;  // odd; the same in x and y
  double sigma_min = 0.1, sigma_max = 2.0;
  double p = 1.0;  // probability of applying (RandomApply semantics; BYOL uses 1.0 / 0.1)
};

/// RandomApply(GaussianBlur(kernel_size, sigma), p): one uniform for the decision (skipped when
/// p < u), then sigma = uniform(sigma_min, sigma_max) as torchvision's get_params.
class GaussianBlur : public Transform {
 public:
  explicit GaussianBlur(GaussianBlurOptions options);
  static double get_params(const GaussianBlurOptions& options, core::Generator& gen);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  GaussianBlurOptions options_;
};

}  // namespace selfsup::data
