#include "data/image.h"

namespace selfsup::data {

std::string Image::shape_string() const {
  std::string s = "[";
  s += std::to_string(channels);
  s += ", ";
  s += std::to_string(height);
  s += ", ";
  s += std::to_string(width);
  s += "]";
  return s;
}

Image to_float(const std::uint8_t* chw, std::int64_t channels, std::int64_t height, std::int64_t width) {
  Image out(channels, height, width);
  const std::int64_t n = out.numel();
  // NOTE: a division, not a multiplication by 1/255: the two differ in f32 for about half of
  // the byte values, and torchvision divides (ecosystem.md section 10.6).
  for (std::int64_t i = 0; i < n; ++i) out.pixels[static_cast<std::size_t>(i)] = static_cast<float>(chw[i]) / 255.0f;
  return out;
}

Image to_float(const ByteImage& image) {
  return to_float(image.pixels.data(), image.channels, image.height, image.width);
}

ByteImage hwc_to_chw(const std::uint8_t* hwc, std::int64_t channels, std::int64_t height, std::int64_t width) {
  ByteImage out{channels, height, width, std::vector<std::uint8_t>(static_cast<std::size_t>(channels * height * width))};
  const std::int64_t plane = height * width;
  for (std::int64_t p = 0; p < plane; ++p)
    for (std::int64_t c = 0; c < channels; ++c) out.pixels[static_cast<std::size_t>(c * plane + p)] = hwc[p * channels + c];
  return out;
}

}  // namespace selfsup::data
