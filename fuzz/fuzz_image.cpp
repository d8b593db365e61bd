// libFuzzer target for image decoding through our hardened stb_image build (PNG, JPEG, BMP;
// STBI_MAX_DIMENSIONS 8192): decode_image must return a consistent image or throw core::Error.
// Odd-sized inputs are decoded to grayscale, even-sized to RGB, so both conversions are exercised.
// The pixel budget is 4 Mpixel instead of the library's 64: the fuzzer looks for memory errors,
// and decoding 64-Mpixel images under ASan only produces timeouts.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int channels = (size % 2 == 1) ? 1 : 3;
  try {
    const auto image = selfsup::data::decode_image(data, size, channels, "<fuzz>", std::int64_t{4} << 20);
    if (image.channels != channels || image.height <= 0 || image.width <= 0 ||
        image.pixels.size() != static_cast<std::size_t>(image.channels * image.height * image.width))
      __builtin_trap();
  } catch (const selfsup::core::Error&) {
  }
  return 0;
}
