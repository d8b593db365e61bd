// Colour adjustments and ColorJitter with torchvision 0.14 float-tensor semantics
// (functional_tensor.py): blend(a, b, r) = clamp(r * a + (1 - r) * b, 0, 1);
//   brightness: blend(x, 0, f)            contrast: blend(x, mean(gray(x)), f)
//   saturation: blend(x, gray(x), f)      hue: RGB -> HSV, h = (h + f) mod 1, HSV -> RGB
// gray uses 0.2989/0.587/0.114. Saturation and hue leave a 1-channel image unchanged (as
// torchvision does, "to match PIL"); contrast on 1 channel uses the mean of the image itself.
#pragma once

#include <array>
#include <optional>

#include "data/transforms/transform.h"

namespace selfsup::data {

Image adjust_brightness(Image image, double factor);
Image adjust_contrast(Image image, double factor);
Image adjust_saturation(Image image, double factor);
/// factor in [-0.5, 0.5].
Image adjust_hue(Image image, double factor);

/// The drawn parameters of one ColorJitter call: the order of the four adjustments
/// (0 brightness, 1 contrast, 2 saturation, 3 hue) and each factor (absent = not applied).
struct ColorJitterParams {
  std::array<int, 4> order{0, 1, 2, 3};
  std::optional<double> brightness, contrast, saturation, hue;
};

/// Applies the adjustments in `params.order`, skipping absent factors.
Image color_jitter(Image image, const ColorJitterParams& params);

struct ColorJitterOptions {
  double brightness = 0.0;  // factor drawn from [max(0, 1 - b), 1 + b]; 0 disables
  double contrast = 0.0;
  double saturation = 0.0;
  double hue = 0.0;  // factor drawn from [-h, h], h <= 0.5; 0 disables
  double p = 1.0;    // probability of applying at all (RandomApply semantics)
};

/// torchvision ColorJitter, wrapped in RandomApply(p) when p < 1.
class ColorJitter : public Transform {
 public:
  explicit ColorJitter(ColorJitterOptions options);
  /// Draws: randperm(4) (3 uniforms), then one uniform per enabled factor in the order
  /// brightness, contrast, saturation, hue, as torchvision's get_params.
  static ColorJitterParams get_params(const ColorJitterOptions& options, core::Generator& gen);
  Image operator()(Image image, core::Generator& gen) const override;
  std::string name() const override;

 private:
  ColorJitterOptions options_;
};

}  // namespace selfsup::data
