// libFuzzer target for the CIFAR-10/100 binary parser: the same bytes are parsed as both kinds;
// each must succeed (with consistent sizes and labels in range) or throw core::Error.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = selfsup::data;
  for (const auto kind : {d::CifarKind::cifar10, d::CifarKind::cifar100}) {
    try {
      const auto records = d::parse_cifar(data, size, kind, "<fuzz>");
      const std::size_t count = size / d::cifar_record_size(kind);
      if (records.labels.size() != count || records.pixels.size() != count * d::kCifarPixels) __builtin_trap();
      for (const auto label : records.labels)
        if (label < 0 || label >= (kind == d::CifarKind::cifar10 ? 10 : 100)) __builtin_trap();
      if (kind == d::CifarKind::cifar100 && records.coarse_labels.size() != count) __builtin_trap();
    } catch (const selfsup::core::Error&) {
    }
  }
  return 0;
}
