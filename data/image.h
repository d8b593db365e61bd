// Images as the data library passes them around.
// Convention: an `Image` is float32, CHW (planar, row-major within a plane), values in [0, 1]
// after `to_float` (uint8 / 255, a true division as torchvision's ToTensor does). Every
// transform reads and writes this layout. `ByteImage` is the compact uint8 CHW form datasets
// keep in memory. Neither type knows about devices; `to_tensor` / `stack_images` build
// core::Tensor values ([C, H, W] / [N, C, H, W], f32, contiguous CPU).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace selfsup::data {

/// A float image, CHW, normally in [0, 1].
struct Image {
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::vector<float> pixels;  // size channels * height * width

  Image() = default;
  /// A zero-filled image.
  Image(std::int64_t c, std::int64_t h, std::int64_t w)
      : channels(c), height(h), width(w), pixels(static_cast<std::size_t>(c * h * w), 0.0f) {}

  std::int64_t numel() const { return channels * height * width; }
  std::int64_t plane() const { return height * width; }
  float* channel(std::int64_t c) { return pixels.data() + c * plane(); }
  const float* channel(std::int64_t c) const { return pixels.data() + c * plane(); }
  float& at(std::int64_t c, std::int64_t y, std::int64_t x) { return pixels[static_cast<std::size_t>((c * height + y) * width + x)]; }
  float at(std::int64_t c, std::int64_t y, std::int64_t x) const { return pixels[static_cast<std::size_t>((c * height + y) * width + x)]; }
  /// "[C, H, W]"
  std::string shape_string() const;
};

/// A uint8 image, CHW (the layout CIFAR stores on disk).
struct ByteImage {
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::vector<std::uint8_t> pixels;

  std::int64_t numel() const { return channels * height * width; }
};

/// uint8 -> float by division by 255 (bitwise what torchvision's to_tensor produces).
Image to_float(const std::uint8_t* chw, std::int64_t channels, std::int64_t height, std::int64_t width);
Image to_float(const ByteImage& image);
/// Interleaved HWC bytes (stb_image output) -> planar CHW bytes.
ByteImage hwc_to_chw(const std::uint8_t* hwc, std::int64_t channels, std::int64_t height, std::int64_t width);

/// [C, H, W] f32 contiguous CPU tensor holding a copy of `image`.
core::Tensor to_tensor(const Image& image);
/// The inverse of to_tensor: accepts f32/f64 tensors of shape [C, H, W] (any strides).
Image from_tensor(const core::Tensor& tensor);

}  // namespace selfsup::data
