#include "data/image_decode.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

#include <stb/stb_image.h>

#include "core/error.h"
#include "data/file_io.h"

namespace selfsup::data {
namespace {

std::uint32_t le16(const std::uint8_t* p) { return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

/// stb's BMP reader pads missing pixel data with zeros, so a few header bytes can declare a
/// decode of tens of megapixels. Uncompressed BMP sizes are exact: reject files shorter than the
/// pixel rows they declare (the last row's padding may be missing).
void check_bmp_size(const std::uint8_t* b, std::size_t size, std::int64_t width, std::int64_t height,
                    const std::string& source) {
  auto truncated = [&](const std::string& why) {
    throw core::IoError("decode_image: truncated BMP " + source + " (" + why + ", file has " + std::to_string(size) +
                        " bytes)");
  };
  if (size < 18) truncated("incomplete file header");
  const std::uint32_t offset = le32(b + 10);
  const std::uint32_t header = le32(b + 14);
  const std::size_t bpp_at = header == 12 ? 24 : 28;
  if (size < bpp_at + 2) truncated("incomplete info header");
  const std::uint64_t bpp = le16(b + bpp_at);
  const std::uint64_t row_bytes = (bpp * static_cast<std::uint64_t>(width) + 31) / 32 * 4;
  const std::uint64_t last_row = (bpp * static_cast<std::uint64_t>(width) + 7) / 8;
  const std::uint64_t needed = std::uint64_t{offset} + row_bytes * static_cast<std::uint64_t>(height - 1) + last_row;
  if (needed > size)
    truncated(std::to_string(width) + "x" + std::to_string(height) + " at " + std::to_string(bpp) +
              " bits per pixel from byte offset " + std::to_string(offset) + " needs " + std::to_string(needed) + " bytes");
}

}  // namespace

ByteImage decode_image(const void* bytes, std::size_t size, int channels, const std::string& source,
                       std::int64_t max_pixels) {
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
  if (width <= 0 || height <= 0 || static_cast<std::int64_t>(width) * height > max_pixels)
    throw core::IoError("decode_image: " + source + " has unsupported dimensions " + std::to_string(width) + "x" +
                        std::to_string(height) + " (limit " + std::to_string(max_pixels) + " pixels)");
  if (size >= 2 && buffer[0] == 'B' && buffer[1] == 'M') check_bmp_size(buffer, size, width, height, source);
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
