#include "data/transforms/random_resized_crop.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace selfsup::data {
namespace {

/// Source taps of one output coordinate for bilinear, align_corners=False (PyTorch
/// UpSample.h: area_pixel_compute_source_index + compute_source_index_and_lambda, in f32).
struct Tap {
  std::int64_t i0, i1;
  float w0, w1;
};

std::vector<Tap> linear_taps(std::int64_t in_size, std::int64_t out_size) {
  std::vector<Tap> taps(static_cast<std::size_t>(out_size));
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (std::int64_t o = 0; o < out_size; ++o) {
    // NOTE: PyTorch evaluates `scale * (o + 0.5) - 0.5` in double, then stores it as float.
    float src = static_cast<float>(static_cast<double>(scale) * (static_cast<double>(o) + 0.5) - 0.5);
    if (src < 0.0f) src = 0.0f;
    const auto i0 = static_cast<std::int64_t>(src);
    const std::int64_t i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
    const float l1 = std::min(std::max(src - static_cast<float>(i0), 0.0f), 1.0f);
    taps[static_cast<std::size_t>(o)] = Tap{i0, i1, 1.0f - l1, l1};
  }
  return taps;
}

/// Bilinear resample of the window [top, top+in_h) x [left, left+in_w) of `src` (inside the image).
/// Separable: each needed source row is interpolated along W once (row[i0] * w0 + row[i1] * w1),
/// then output rows blend two of those (top * wy0 + bottom * wy1) -- the same operations, in the
/// same order, as PyTorch's per-pixel form, so results are identical.
Image resample_window(const Image& src, std::int64_t top, std::int64_t left, std::int64_t in_h, std::int64_t in_w,
                      std::int64_t out_h, std::int64_t out_w) {
  const auto ty = linear_taps(in_h, out_h);
  const auto tx = linear_taps(in_w, out_w);
  Image out;
  out.channels = src.channels, out.height = out_h, out.width = out_w;
  out.pixels.resize(static_cast<std::size_t>(src.channels * out_h * out_w));
  std::vector<float> rows(static_cast<std::size_t>(in_h * out_w));  // W-interpolated source rows
  std::vector<char> needed(static_cast<std::size_t>(in_h), 0);
  for (const Tap& t : ty) needed[static_cast<std::size_t>(t.i0)] = needed[static_cast<std::size_t>(t.i1)] = 1;
  for (std::int64_t c = 0; c < src.channels; ++c) {
    const float* plane = src.channel(c);
    for (std::int64_t y = 0; y < in_h; ++y) {
      if (!needed[static_cast<std::size_t>(y)]) continue;
      const float* row = plane + (top + y) * src.width + left;
      float* h = rows.data() + y * out_w;
      for (std::int64_t x = 0; x < out_w; ++x) {
        const Tap& s = tx[static_cast<std::size_t>(x)];
        h[x] = row[s.i0] * s.w0 + row[s.i1] * s.w1;
      }
    }
    float* dst = out.channel(c);
    for (std::int64_t y = 0; y < out_h; ++y) {
      const Tap& t = ty[static_cast<std::size_t>(y)];
      const float* __restrict r0 = rows.data() + t.i0 * out_w;
      const float* __restrict r1 = rows.data() + t.i1 * out_w;
      float* __restrict d = dst + y * out_w;
      for (std::int64_t x = 0; x < out_w; ++x) d[x] = r0[x] * t.w0 + r1[x] * t.w1;
    }
  }
  return out;
}

void check_size(const char* op, std::int64_t height, std::int64_t width) {
  if (!(height > 0 && width > 0))  // the message is only built on failure (hot path)
    core::check(false, std::string(op) + ": output size must be positive, got " +
                                           std::to_string(height) + "x" + std::to_string(width));
}

bool inside(const Image& image, const CropParams& b) {
  return b.top >= 0 && b.left >= 0 && b.top + b.height <= image.height && b.left + b.width <= image.width;
}

}  // namespace

Image crop(const Image& image, const CropParams& box) {
  if (!(box.height > 0 && box.width > 0))  // the message is only built on failure (hot path)
    core::check(false, "crop: box must have a positive size, got " + std::to_string(box.height) +
                                                   "x" + std::to_string(box.width));
  Image out(image.channels, box.height, box.width);  // zero filled: torchvision pads with 0
  for (std::int64_t c = 0; c < image.channels; ++c)
    for (std::int64_t y = 0; y < box.height; ++y) {
      const std::int64_t sy = box.top + y;
      if (sy < 0 || sy >= image.height) continue;
      for (std::int64_t x = 0; x < box.width; ++x) {
        const std::int64_t sx = box.left + x;
        if (sx >= 0 && sx < image.width) out.at(c, y, x) = image.at(c, sy, sx);
      }
    }
  return out;
}

Image resize(Image image, std::int64_t height, std::int64_t width) {
  check_size("resize", height, width);
  if (image.height == height && image.width == width) return image;
  if (!(image.height > 0 && image.width > 0))  // the message is only built on failure (hot path)
    core::check(false, "resize: cannot resize an empty image " + image.shape_string());
  return resample_window(image, 0, 0, image.height, image.width, height, width);
}

Image resized_crop(Image image, const CropParams& box, std::int64_t height, std::int64_t width) {
  check_size("resized_crop", height, width);
  if (!inside(image, box)) return resize(crop(image, box), height, width);
  if (!(box.height > 0 && box.width > 0))  // the message is only built on failure (hot path)
    core::check(false, "resized_crop: box must have a positive size");
  if (box.height == height && box.width == width) return crop(image, box);
  return resample_window(image, box.top, box.left, box.height, box.width, height, width);
}

RandomResizedCrop::RandomResizedCrop(RandomResizedCropOptions options) : options_(options) {
  check_size("RandomResizedCrop", options.height, options.width);
  core::check(options.scale_min > 0 && options.scale_min <= options.scale_max,
              "RandomResizedCrop: scale must satisfy 0 < min <= max");
  core::check(options.ratio_min > 0 && options.ratio_min <= options.ratio_max,
              "RandomResizedCrop: ratio must satisfy 0 < min <= max");
}

CropParams RandomResizedCrop::get_params(std::int64_t height, std::int64_t width, const RandomResizedCropOptions& o,
                                         core::Generator& gen) {
  const double area = static_cast<double>(height * width);
  // torch.log(torch.tensor(ratio)) is evaluated in f32.
  const double log_min = std::log(static_cast<float>(o.ratio_min));
  const double log_max = std::log(static_cast<float>(o.ratio_max));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform(gen, o.scale_min, o.scale_max);
    const double aspect = std::exp(uniform(gen, log_min, log_max));
    // Python's round() rounds half to even, as nearbyint does in the default rounding mode.
    const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area * aspect)));
    const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area / aspect)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const std::int64_t top = randint(gen, 0, height - h + 1);
      const std::int64_t left = randint(gen, 0, width - w + 1);
      return CropParams{top, left, h, w};
    }
  }
  // Fallback to a central crop.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width, h = height;
  if (in_ratio < o.ratio_min) {
    h = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(w) / o.ratio_min));
  } else if (in_ratio > o.ratio_max) {
    w = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(h) * o.ratio_max));
  }
  return CropParams{(height - h) / 2, (width - w) / 2, h, w};
}

Image RandomResizedCrop::operator()(Image image, core::Generator& gen) const {
  const CropParams box = get_params(image.height, image.width, options_, gen);
  return resized_crop(std::move(image), box, options_.height, options_.width);
}

std::string RandomResizedCrop::name() const {
  std::ostringstream s;
  s << "RandomResizedCrop(size=(" << options_.height << ", " << options_.width << "), scale=(" << options_.scale_min
    << ", " << options_.scale_max << "), ratio=(" << options_.ratio_min << ", " << options_.ratio_max << "))";
  return s.str();
}

Resize::Resize(std::int64_t height, std::int64_t width) : height_(height), width_(width) {
  check_size("Resize", height, width);
}

Image Resize::operator()(Image image, core::Generator&) const { return resize(std::move(image), height_, width_); }

std::string Resize::name() const {
  return "Resize(" + std::to_string(height_) + ", " + std::to_string(width_) + ")";
}

}  // namespace selfsup::data
