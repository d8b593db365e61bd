#include "data/transforms/gaussian_blur.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace selfsup::data {
namespace {

void check_kernel(const char* op, std::int64_t k) {
  if (!(k > 0 && k % 2 == 1))  // the message is only built on failure (hot path)
    core::check(false, std::string(op) + ": kernel size must be odd and positive, got " + std::to_string(k));
}

/// torch reflect padding index (no edge repeat): -1 -> 1, n -> n - 2.
std::int64_t reflect(std::int64_t i, std::int64_t n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

}  // namespace

std::vector<float> gaussian_kernel1d(std::int64_t kernel_size, double sigma) {
  check_kernel("gaussian_kernel1d", kernel_size);
  if (!(sigma > 0))  // the message is only built on failure (hot path)
    core::check(false, "gaussian_kernel1d: sigma must be positive, got " + std::to_string(sigma));
  const float half = static_cast<float>(kernel_size - 1) * 0.5f;
  std::vector<float> kernel(static_cast<std::size_t>(kernel_size));
  const auto s = static_cast<float>(sigma);
  // torch.linspace(-half, half, k) in f32: start + i * step, step = (end - start) / (k - 1).
  const float step = kernel_size > 1 ? (half - (-half)) / static_cast<float>(kernel_size - 1) : 0.0f;
  float sum = 0.0f;
  for (std::int64_t i = 0; i < kernel_size; ++i) {
    const float x = -half + static_cast<float>(i) * step;
    const float z = x / s;
    kernel[static_cast<std::size_t>(i)] = std::exp(-0.5f * (z * z));
    sum += kernel[static_cast<std::size_t>(i)];
  }
  for (float& k : kernel) k /= sum;
  return kernel;
}

Image gaussian_blur(const Image& image, std::int64_t kernel_x, std::int64_t kernel_y, double sigma_x, double sigma_y) {
  check_kernel("gaussian_blur", kernel_x);
  check_kernel("gaussian_blur", kernel_y);
  const std::int64_t pad_x = kernel_x / 2, pad_y = kernel_y / 2;
  if (!(pad_x < image.width && pad_y < image.height))  // the message is only built on failure (hot path)
    core::check(false, "gaussian_blur: reflect padding (" + std::to_string(pad_y) + ", " + std::to_string(pad_x) +
                  ") must be smaller than the image size " + image.shape_string());
  const auto kx = gaussian_kernel1d(kernel_x, sigma_x);
  const auto ky = gaussian_kernel1d(kernel_y, sigma_y);
  const std::int64_t H = image.height, W = image.width;
  Image out(image.channels, H, W);
  std::vector<float> rows(static_cast<std::size_t>(H * W));
  for (std::int64_t c = 0; c < image.channels; ++c) {
    const float* src = image.channel(c);
    // Horizontal pass.
    for (std::int64_t y = 0; y < H; ++y) {
      const float* row = src + y * W;
      float* dst = rows.data() + y * W;
      for (std::int64_t x = 0; x < W; ++x) {
        float acc = 0.0f;
        if (x >= pad_x && x + pad_x < W) {
          const float* base = row + x - pad_x;
          for (std::int64_t k = 0; k < kernel_x; ++k) acc += kx[static_cast<std::size_t>(k)] * base[k];
        } else {
          for (std::int64_t k = 0; k < kernel_x; ++k) acc += kx[static_cast<std::size_t>(k)] * row[reflect(x - pad_x + k, W)];
        }
        dst[x] = acc;
      }
    }
    // Vertical pass.
    float* dst = out.channel(c);
    for (std::int64_t y = 0; y < H; ++y) {
      float* d = dst + y * W;
      for (std::int64_t x = 0; x < W; ++x) d[x] = 0.0f;
      for (std::int64_t k = 0; k < kernel_y; ++k) {
        const float w = ky[static_cast<std::size_t>(k)];
        const float* r = rows.data() + reflect(y - pad_y + k, H) * W;
        for (std::int64_t x = 0; x < W; ++x) d[x] += w * r[x];
      }
    }
  }
  return out;
}

GaussianBlur::GaussianBlur(GaussianBlurOptions options) : options_(options) {
  check_kernel("GaussianBlur", options.kernel_size);
  core::check(options.sigma_min > 0 && options.sigma_min <= options.sigma_max,
              "GaussianBlur: sigma must satisfy 0 < min <= max");
  core::check(options.p >= 0 && options.p <= 1, "GaussianBlur: p must be in [0, 1], got " + std::to_string(options.p));
}

double GaussianBlur::get_params(const GaussianBlurOptions& options, core::Generator& gen) {
  return uniform(gen, options.sigma_min, options.sigma_max);
}

Image GaussianBlur::operator()(Image image, core::Generator& gen) const {
  if (options_.p < gen.next_uniform()) return image;
  const double sigma = get_params(options_, gen);
  return gaussian_blur(image, options_.kernel_size, options_.kernel_size, sigma, sigma);
}

std::string GaussianBlur::name() const {
  std::ostringstream s;
  s << "GaussianBlur(kernel_size=" << options_.kernel_size << ", sigma=(" << options_.sigma_min << ", "
    << options_.sigma_max << "), p=" << options_.p << ")";
  return s.str();
}

}  // namespace selfsup::data
