// Image decoding with our hardened stb_image build (PNG, JPEG, BMP only; see stb_image_impl.cpp).
// Files are read with a byte cap and decoded from memory; the header is checked against a pixel
// budget before decoding. Output is uint8 CHW with 1 (grayscale) or 3 (RGB) channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "data/image.h"

namespace selfsup::data {

/// Files larger than this are rejected before decoding (256 MiB).
inline constexpr std::size_t kMaxImageFileBytes = std::size_t{256} << 20;
/// Decodes with more pixels than this (width * height) are rejected (64 Mpixel).
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{64} << 20;

/// Decodes a PNG/JPEG/BMP held in memory into `channels` (1 or 3) uint8 CHW planes. Grayscale uses
/// PIL's "L" conversion of the RGB decode (L = (19595 R + 38470 G + 7471 B + 2^15) >> 16), so it
/// matches torchvision's ImageFolder + Grayscale on PIL. Throws IoError naming `source` and stb's
/// reason for corrupt or unsupported data, for images over `max_pixels` (from the header, before
/// decoding), and for BMPs shorter than the pixel rows they declare.
ByteImage decode_image(const void* bytes, std::size_t size, int channels, const std::string& source,
                       std::int64_t max_pixels = kMaxImagePixels);
/// Reads `path` (at most kMaxImageFileBytes) and decodes it.
ByteImage load_image(const std::string& path, int channels);
/// True when the file name ends in an extension this build can decode (.png .jpg .jpeg .bmp, any case).
bool is_supported_image_extension(const std::string& path);

}  // namespace selfsup::data
