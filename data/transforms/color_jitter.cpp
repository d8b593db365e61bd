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
  core::check(factor >= 0.0, std::string(op) + ": factor must be non-negative, got " + std::to_string(factor));
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
  const Image gray = image.channels == 3 ? rgb_to_grayscale(image, 1) : image;
  // torch.mean over f32 accumulates in higher precision; a double sum is within rounding of it.
  double sum = 0.0;
  for (const float v : gray.pixels) sum += v;
  const auto mean = static_cast<float>(sum / static_cast<double>(gray.pixels.size()));
  blend_constant(image, static_cast<float>(factor), mean);
  return image;
}

Image adjust_saturation(Image image, double factor) {
  check_factor("adjust_saturation", factor);
  check_channels("adjust_saturation", image, {1, 3});
  if (image.channels == 1) return image;
  const Image gray = rgb_to_grayscale(image, 1);
  const auto r = static_cast<float>(factor);
  const float* l = gray.channel(0);
  for (std::int64_t c = 0; c < 3; ++c) {
    float* p = image.channel(c);
    for (std::int64_t i = 0; i < image.plane(); ++i) p[i] = clamp01(r * p[i] + (1.0f - r) * l[i]);
  }
  return image;
}

Image adjust_hue(Image image, double factor) {
  core::check(factor >= -0.5 && factor <= 0.5, "adjust_hue: factor must be in [-0.5, 0.5], got " + std::to_string(factor));
  check_channels("adjust_hue", image, {1, 3});
  if (image.channels == 1) return image;
  const auto hue_shift = static_cast<float>(factor);
  float *pr = image.channel(0), *pg = image.channel(1), *pb = image.channel(2);
  for (std::int64_t i = 0; i < image.plane(); ++i) {
    const float r = pr[i], g = pg[i], b = pb[i];
    // _rgb2hsv
    const float maxc = std::max(std::max(r, g), b);
    const float minc = std::min(std::min(r, g), b);
    const bool eqc = maxc == minc;
    const float cr = maxc - minc;
    const float s = cr / (eqc ? 1.0f : maxc);
    const float cr_divisor = eqc ? 1.0f : cr;
    const float rc = (maxc - r) / cr_divisor, gc = (maxc - g) / cr_divisor, bc = (maxc - b) / cr_divisor;
    const float hr = maxc == r ? bc - gc : 0.0f;
    const float hg = (maxc == g && maxc != r) ? 2.0f + rc - bc : 0.0f;
    const float hb = (maxc != g && maxc != r) ? 4.0f + gc - rc : 0.0f;
    float h = ((hr + hg) + hb);
    h = std::fmod(h / 6.0f + 1.0f, 1.0f);
    const float v = maxc;
    // (h + hue_factor) % 1.0: Python/torch remainder, result has the sign of the divisor.
    h = h + hue_shift;
    h = h - std::floor(h);
    if (h >= 1.0f) h = 0.0f;
    // _hsv2rgb
    const float i6 = std::floor(h * 6.0f);
    const float f = h * 6.0f - i6;
    const int sector = ((static_cast<int>(i6) % 6) + 6) % 6;
    const float p = clamp01(v * (1.0f - s));
    const float q = clamp01(v * (1.0f - s * f));
    const float t = clamp01(v * (1.0f - s * (1.0f - f)));
    float nr, ng, nb;
    switch (sector) {
      case 0: nr = v, ng = t, nb = p; break;
      case 1: nr = q, ng = v, nb = p; break;
      case 2: nr = p, ng = v, nb = t; break;
      case 3: nr = p, ng = q, nb = v; break;
      case 4: nr = t, ng = p, nb = v; break;
      default: nr = v, ng = p, nb = q; break;
    }
    pr[i] = nr, pg[i] = ng, pb[i] = nb;
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
