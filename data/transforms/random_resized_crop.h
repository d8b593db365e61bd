// Crop, bilinear resize and RandomResizedCrop with torchvision 0.14 tensor semantics:
// resize = torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=False),
// i.e. no antialiasing when downsampling (the tensor path's default in 0.14). Shapes:
// image [C, H, W] -> [C, size_h, size_w].
#pragma once

#include <cstdint>
#include <string>

#include "data/transforms/transform.h"

namespace selfsup::data {

/// A crop box in pixels (torchvision's i, j, h, w).
struct CropParams {
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

/// image[:, top:top+height, left:left+width]; parts outside the image are zero (torchvision F.crop).
Image crop(const Image& image, const CropParams& box);
/// Bilinear resize to [C, height, width], align_corners=False, no antialias; returns the input
/// unchanged when the size already matches (as F.resize does).
Image resize(Image image, std::int64_t height, std::int64_t width);
/// crop then resize (F.resized_crop), fused into one pass when the box lies inside the image.
Image resized_crop(Image image, const CropParams& box, std::int64_t height, std::int64_t width);

struct RandomResizedCropOptions {
  std::int64_t height = 32, width = 32;  // output size
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
};

/// torchvision RandomResizedCrop(size, scale, ratio, bilinear, antialias=None).
class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(RandomResizedCropOptions options);
  /// Up to 10 tries of (area uniform in scale, log-ratio uniform), then randint for top and left;
  /// falls back to a centre crop, exactly as torchvision's get_params (rounding half to even).
  static CropParams get_params(std::int64_t image_height, std::int64_t image_width, const RandomResizedCropOptions& o,
                               core::Generator& gen);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;
  const RandomResizedCropOptions& options() const { return options_; }

 private:
  RandomResizedCropOptions options_;
};

/// Deterministic resize (for evaluation pipelines and image folders).
class Resize : public Transform {
 public:
  Resize(std::int64_t height, std::int64_t width);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  std::int64_t height_, width_;
};

}  // namespace selfsup::data
