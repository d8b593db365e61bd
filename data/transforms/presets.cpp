#include "data/transforms/presets.h"

#include <cmath>

#include "core/error.h"
#include "data/stats.h"
#include "data/transforms/color_jitter.h"
#include "data/transforms/gaussian_blur.h"
#include "data/transforms/grayscale.h"
#include "data/transforms/horizontal_flip.h"
#include "data/transforms/normalize.h"
#include "data/transforms/random_resized_crop.h"
#include "data/transforms/solarize.h"

namespace selfsup::data {
namespace {

std::int64_t blur_kernel(std::int64_t size) {
  auto k = static_cast<std::int64_t>(std::lround(0.1 * static_cast<double>(size)));
  if (k % 2 == 0) k += 1;
  return std::max<std::int64_t>(k, 3);
}

struct Recipe {
  double scale_min;
  ColorJitterOptions jitter;
  bool blur_before_flip;  // MoCo v2 order
  double blur_p;          // < 0: no blur
  double solarize_p;      // < 0: no solarize
};

TransformPtr pipeline(const Recipe& r, const PresetOptions& o) {
  const bool rgb = o.channels == 3;
  std::vector<TransformPtr> ts;
  ts.push_back(make<RandomResizedCrop>(RandomResizedCropOptions{.height = o.size, .width = o.size, .scale_min = r.scale_min}));
  if (!r.blur_before_flip) ts.push_back(make<RandomHorizontalFlip>(0.5));
  ColorJitterOptions jitter = r.jitter;
  if (!rgb) jitter.saturation = 0.0, jitter.hue = 0.0;
  ts.push_back(make<ColorJitter>(jitter));
  if (rgb) ts.push_back(make<RandomGrayscale>(0.2));
  if (r.blur_p >= 0)
    ts.push_back(make<GaussianBlur>(GaussianBlurOptions{.kernel_size = blur_kernel(o.size), .sigma_min = 0.1, .sigma_max = 2.0, .p = r.blur_p}));
  if (r.blur_before_flip) ts.push_back(make<RandomHorizontalFlip>(0.5));
  if (r.solarize_p >= 0) ts.push_back(make<RandomSolarize>(0.5, r.solarize_p));
  if (!o.mean.empty()) ts.push_back(make<Normalize>(o.mean, o.std));
  return make<Compose>(std::move(ts));
}

}  // namespace

std::vector<std::string> preset_names() { return {"simclr", "mocov2", "byol"}; }

MultiViewTransform make_preset(const std::string& name, const PresetOptions& o) {
  core::check(o.channels == 1 || o.channels == 3, "make_preset: channels must be 1 or 3, got " + std::to_string(o.channels));
  core::check(o.size > 0, "make_preset: size must be positive");
  const ColorJitterOptions strong{.brightness = 0.4, .contrast = 0.4, .saturation = 0.4, .hue = 0.1, .p = 0.8};
  if (name == "simclr") {
    const Recipe r{0.08, strong, false, -1, -1};
    return MultiViewTransform::repeat(pipeline(r, o), 2);
  }
  if (name == "mocov2") {
    const Recipe r{0.2, strong, true, 0.5, -1};
    return MultiViewTransform::repeat(pipeline(r, o), 2);
  }
  if (name == "byol") {
    const ColorJitterOptions byol_jitter{.brightness = 0.4, .contrast = 0.4, .saturation = 0.2, .hue = 0.1, .p = 0.8};
    const Recipe view1{0.08, byol_jitter, false, 1.0, 0.0};
    const Recipe view2{0.08, byol_jitter, false, 0.1, 0.2};
    return MultiViewTransform({pipeline(view1, o), pipeline(view2, o)});
  }
  throw core::ValueError("make_preset: unknown recipe '" + name + "' (expected simclr, mocov2 or byol)");
}

MultiViewTransform cifar_preset(const std::string& name) {
  const auto n = Normalization::cifar10();
  return make_preset(name, PresetOptions{.size = 32, .channels = 3, .mean = n.mean, .std = n.std});
}

MultiViewTransform fashion_mnist_preset(const std::string& name) {
  const auto n = Normalization::fashion_mnist();
  return make_preset(name, PresetOptions{.size = 28, .channels = 1, .mean = n.mean, .std = n.std});
}

}  // namespace selfsup::data
