#include "data/image_decode.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

#include <stb/stb_image.h>

#include "core/error.h"
#include "data/file_io.h"

namespace selfsup::data {

ByteImage decode_image(const void* bytes, std::size_t size, int channels, const std::string& source) {
  core::check(channels == 1 || channels == 3,
              "decode_image: channels must be 1 or 3, got " + std::to_string(channels) + " for " + source);
  if (size == 0) throw core::IoError("decode_image: " + source + " is empty");
  if (size > static_cast<std::size_t>(INT_MAX))
    throw core::IoError("decode_image: " + source + " is too large for stb_image (" + std::to_string(size) + " bytes)");
  const auto* buffer = static_cast<const stbi_uc*>(bytes);
  const int length = static_cast<int>(size);
  int width = 0, height = 0, file_channels = 0;
  if (stbi_info_from_memory(buffer, length, &width, &height, &file_channels) == 0)
    throw core::IoError("decode_image: cannot read the image header of " + source + " (stb_image: " +
                        stbi_failure_reason() + "; supported formats: PNG, JPEG, BMP)");
  if (width <= 0 || height <= 0 || static_cast<std::int64_t>(width) * height > kMaxImagePixels)
    throw core::IoError("decode_image: " + source + " has unsupported dimensions " + std::to_string(width) + "x" +
                        std::to_string(height) + " (limit " + std::to_string(kMaxImagePixels) + " pixels)");
  // Always decode to RGB (req_comp = 3) so the output layout never depends on the file.
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(buffer, length, &width, &height, &file_channels, 3),
                                                  &stbi_image_free);
  if (!pixels)
    throw core::IoError("decode_image: corrupt or unsupported image " + source + " (stb_image: " + stbi_failure_reason() + ")");
  ByteImage rgb = hwc_to_chw(pixels.get(), 3, height, width);
  if (channels == 3) return rgb;
  ByteImage gray{1, height, width, std::vector<std::uint8_t>(static_cast<std::size_t>(height) * width)};
  const std::size_t plane = gray.pixels.size();
  for (std::size_t i = 0; i < plane; ++i) {
    const std::uint32_t r = rgb.pixels[i], g = rgb.pixels[plane + i], b = rgb.pixels[2 * plane + i];
    gray.pixels[i] = static_cast<std::uint8_t>((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
  }
  return gray;
}

ByteImage load_image(const std::string& path, int channels) {
  const auto bytes = read_file(path, kMaxImageFileBytes);
  return decode_image(bytes.data(), bytes.size(), channels, path);
}

bool is_supported_image_extension(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

}  // namespace selfsup::data
