#include "data/transforms/color_jitter.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "data/transforms/grayscale.h"

namespace selfsup::data {
namespace {

float clamp01(float v) { return std::min(std::max(v, 0.0f), 1.0f); }

void check_factor(const char* op, double factor) {
  if (!(factor >= 0.0))  // the message is only built on failure (hot path)
    core::check(false, std::string(op) + ": factor must be non-negative, got " + std::to_string(factor));
}

/// clamp(r * a + (1 - r) * b, 0, 1) with b constant (F._blend with a scalar-like second image).
void blend_constant(Image& image, float r, float b) {
  const float rb = (1.0f - r) * b;
  for (float& v : image.pixels) v = clamp01(r * v + rb);
}

}  // namespace

Image adjust_brightness(Image image, double factor) {
  check_factor("adjust_brightness", factor);
  check_channels("adjust_brightness", image, {1, 3});
  blend_constant(image, static_cast<float>(factor), 0.0f);
  return image;
}

Image adjust_contrast(Image image, double factor) {
  check_factor("adjust_contrast", factor);
  check_channels("adjust_contrast", image, {1, 3});
  // mean(gray(x)); torch.mean over f32 accumulates in higher precision, a double sum is within
  // rounding of it. gray is computed inline with rgb_to_grayscale's expression (no allocation).
  // Eight independent double partial sums so the loop vectorises without reassociating.
  constexpr int kLanes = 8;
  double partial[kLanes] = {};
  const std::int64_t n = image.plane();
  const bool rgb = image.channels == 3;
  const float* r = image.channel(0);
  const float* g = rgb ? image.channel(1) : r;
  const float* b = rgb ? image.channel(2) : r;
  auto gray = [&](std::int64_t i) { return rgb ? 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i] : r[i]; };
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) partial[k] += gray(i + k);
  for (; i < n; ++i) partial[0] += gray(i);
  double sum = 0.0;
  for (const double p : partial) sum += p;
  const auto mean = static_cast<float>(sum / static_cast<double>(n));
  blend_constant(image, static_cast<float>(factor), mean);
  return image;
}

Image adjust_saturation(Image image, double factor) {
  check_factor("adjust_saturation", factor);
  check_channels("adjust_saturation", image, {1, 3});
  if (image.channels == 1) return image;
  const auto ratio = static_cast<float>(factor);
  float* __restrict r = image.channel(0);
  float* __restrict g = image.channel(1);
  float* __restrict b = image.channel(2);
  for (std::int64_t i = 0; i < image.plane(); ++i) {
    const float l = 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i];  // rgb_to_grayscale
    const float rest = (1.0f - ratio) * l;
    r[i] = clamp01(ratio * r[i] + rest);
    g[i] = clamp01(ratio * g[i] + rest);
    b[i] = clamp01(ratio * b[i] + rest);
  }
  return image;
}

Image adjust_hue(Image image, double factor) {
  if (!(factor >= -0.5 && factor <= 0.5))  // the message is only built on failure (hot path)
    core::check(false, "adjust_hue: factor must be in [-0.5, 0.5], got " + std::to_string(factor));
  check_channels("adjust_hue", image, {1, 3});
  if (image.channels == 1) return image;
  const auto hue_shift = static_cast<float>(factor);
  float* __restrict pr = image.channel(0);
  float* __restrict pg = image.channel(1);
  float* __restrict pb = image.channel(2);
  // Branch-free per pixel (selects only) so the loop vectorises; the arithmetic is torchvision's
  // _rgb2hsv / _hsv2rgb operation for operation in f32.
  const std::int64_t n = image.plane();
  for (std::int64_t i = 0; i < n; ++i) {
    const float r = pr[i], g = pg[i], b = pb[i];
    // _rgb2hsv
    const float maxc = std::max(std::max(r, g), b);
    const float minc = std::min(std::min(r, g), b);
    // Masks as 0/1 floats multiplied in, exactly as torchvision multiplies its boolean masks.
    const float cr = maxc - minc;
    const float s = cr / (maxc == minc ? 1.0f : maxc);
    const float cr_divisor = maxc == minc ? 1.0f : cr;
    const float rc = (maxc - r) / cr_divisor, gc = (maxc - g) / cr_divisor, bc = (maxc - b) / cr_divisor;
    const float is_r = maxc == r ? 1.0f : 0.0f;
    const float is_g = maxc == g ? 1.0f : 0.0f;
    const float hr = is_r * (bc - gc);
    const float hg = (is_g * (1.0f - is_r)) * (2.0f + rc - bc);
    const float hb = ((1.0f - is_g) * (1.0f - is_r)) * (4.0f + gc - rc);
    // fmod(x, 1) for x = h / 6 + 1 > 0 equals x - floor(x) exactly.
    const float h6 = (hr + hg + hb) / 6.0f + 1.0f;
    float h = h6 - std::floor(h6);
    const float v = maxc;
    // (h + hue_factor) % 1.0, torch.remainder: the result takes the divisor's sign; for
    // h + f in (-1, 0) it is h + f + 1 rounded, which is also h + f - floor(h + f).
    h = h + hue_shift;
    h = h - std::floor(h);
    // _hsv2rgb
    const float i6 = std::floor(h * 6.0f);
    const float f = h * 6.0f - i6;
    const float sector = i6 >= 6.0f ? i6 - 6.0f : i6;  // i % 6 for i in [0, 6]
    const float p = clamp01(v * (1.0f - s));
    const float q = clamp01(v * (1.0f - s * f));
    const float t = clamp01(v * (1.0f - s * (1.0f - f)));
    // Rows of torchvision's a1/a2/a3 tables: r = (v q p p t v), g = (t v v q p p), b = (p p t v v q).
    pr[i] = (sector == 0.0f || sector == 5.0f) ? v : sector == 1.0f ? q : sector == 4.0f ? t : p;
    pg[i] = sector == 0.0f ? t : (sector == 1.0f || sector == 2.0f) ? v : sector == 3.0f ? q : p;
    pb[i] = (sector == 0.0f || sector == 1.0f) ? p : sector == 2.0f ? t : sector == 5.0f ? q : v;
  }
  return image;
}

Image color_jitter(Image image, const ColorJitterParams& params) {
  for (const int fn : params.order) {
    if (fn == 0 && params.brightness) image = adjust_brightness(std::move(image), *params.brightness);
    else if (fn == 1 && params.contrast) image = adjust_contrast(std::move(image), *params.contrast);
    else if (fn == 2 && params.saturation) image = adjust_saturation(std::move(image), *params.saturation);
    else if (fn == 3 && params.hue) image = adjust_hue(std::move(image), *params.hue);
  }
  return image;
}

ColorJitter::ColorJitter(ColorJitterOptions o) : options_(o) {
  core::check(o.brightness >= 0 && o.contrast >= 0 && o.saturation >= 0,
              "ColorJitter: brightness, contrast and saturation must be non-negative");
  core::check(o.hue >= 0 && o.hue <= 0.5, "ColorJitter: hue must be in [0, 0.5], got " + std::to_string(o.hue));
  core::check(o.p >= 0 && o.p <= 1, "ColorJitter: p must be in [0, 1], got " + std::to_string(o.p));
}

ColorJitterParams ColorJitter::get_params(const ColorJitterOptions& o, core::Generator& gen) {
  ColorJitterParams params;
  const auto perm = randperm(gen, 4);
  std::copy(perm.begin(), perm.end(), params.order.begin());
  auto factor = [&](double amount) -> std::optional<double> {
    if (amount == 0.0) return std::nullopt;
    return uniform(gen, std::max(0.0, 1.0 - amount), 1.0 + amount);
  };
  params.brightness = factor(o.brightness);
  params.contrast = factor(o.contrast);
  params.saturation = factor(o.saturation);
  if (o.hue != 0.0) params.hue = uniform(gen, -o.hue, o.hue);
  return params;
}

Image ColorJitter::operator()(Image image, core::Generator& gen) const {
  if (options_.p < 1.0 && options_.p < gen.next_uniform()) return image;
  return color_jitter(std::move(image), get_params(options_, gen));
}

std::string ColorJitter::name() const {
  std::ostringstream s;
  s << "ColorJitter(brightness=" << options_.brightness << ", contrast=" << options_.contrast
    << ", saturation=" << options_.saturation << ", hue=" << options_.hue << ", p=" << options_.p << ")";
  return s.str();
}

}  // namespace selfsup::data
