// libFuzzer target for the IDX reader: gzip detection + zlib inflate (capped), parse_idx, and, for
// image-shaped u8 arrays, an IdxDataset with generated labels and a get(). Any input must either
// succeed or throw core::Error; crashes, sanitizer reports, leaks and other exceptions are bugs.
// Built and run by scripts/fuzz.sh (clang 14, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "data/file_io.h"
#include "data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = selfsup::data;
  try {
    std::vector<std::uint8_t> inflated;
    const std::uint8_t* bytes = data;
    std::size_t length = size;
    if (d::is_gzip(data, size)) {
      inflated = d::gunzip(data, size, "<fuzz.gz>", std::size_t{16} << 20);
      bytes = inflated.data(), length = inflated.size();
    }
    const d::IdxArray array = d::parse_idx(bytes, length, "<fuzz>");
    // Only when the images hold data: a zero-sized dim makes N unbounded by the input size.
    if (array.type == d::IdxType::u8 && array.dims.size() == 3 && array.numel() > 0) {
      d::IdxArray labels{d::IdxType::u8, {array.dims[0]}, std::vector<std::uint8_t>(static_cast<std::size_t>(array.dims[0]), 1)};
      const d::IdxDataset dataset(array, labels, "<fuzz images>", "<fuzz labels>");
      const auto sample = dataset.get(dataset.size() - 1);
      if (sample.image.numel() != array.dims[1] * array.dims[2]) __builtin_trap();
    }
  } catch (const selfsup::core::Error&) {
  }
  return 0;
}
