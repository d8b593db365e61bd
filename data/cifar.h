// CIFAR-10 and CIFAR-100 binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
// CIFAR-10 record: <1 label byte><3072 pixel bytes> = 3073 bytes; CIFAR-100 record:
// <1 coarse label><1 fine label><3072 pixel bytes> = 3074 bytes. Pixels are three 32x32 planes
// R, G, B, so a record is already CHW. The record count comes from the file size (a remainder is
// an error) instead of a hard-coded 10000. Errors name the file, the record and its byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace selfsup::data {

enum class CifarKind { cifar10, cifar100 };

inline constexpr std::int64_t kCifarChannels = 3, kCifarHeight = 32, kCifarWidth = 32;
inline constexpr std::size_t kCifarPixels = 3 * 32 * 32;

/// Bytes per record: 3073 (CIFAR-10) or 3074 (CIFAR-100).
std::size_t cifar_record_size(CifarKind kind);

/// The parsed contents of one binary batch file.
struct CifarRecords {
  std::vector<std::uint8_t> pixels;         // count * 3072 bytes, CHW per record
  std::vector<std::int64_t> labels;         // CIFAR-10 label, or CIFAR-100 fine label
  std::vector<std::int64_t> coarse_labels;  // CIFAR-100 only (empty for CIFAR-10)
};

/// Parses a whole CIFAR binary file held in memory; `source` names it in errors. Throws IoError
/// for an empty buffer, a size that is not a multiple of the record size, or a label out of range.
CifarRecords parse_cifar(const void* bytes, std::size_t size, CifarKind kind, const std::string& source);

/// CIFAR-10 from a directory holding data_batch_1..5.bin and test_batch.bin (or its parent,
/// when the files are in `cifar-10-batches-bin/`). Class names from batches.meta.txt when present.
class Cifar10 : public InMemoryDataset {
 public:
  Cifar10(const std::string& root, Split split);
};

enum class Cifar100Labels { fine, coarse };

/// CIFAR-100 from a directory holding train.bin and test.bin (or its parent, when the files are in
/// `cifar-100-binary/`). `label` selects which label `get` returns; both stay available.
class Cifar100 : public InMemoryDataset {
 public:
  Cifar100(const std::string& root, Split split, Cifar100Labels label = Cifar100Labels::fine);
  std::int64_t fine_label(std::int64_t index) const;
  std::int64_t coarse_label(std::int64_t index) const;

 private:
  Cifar100(CifarRecords records, Cifar100Labels label, std::vector<std::string> names);
  std::vector<std::int64_t> fine_, coarse_;
};

/// The file names of a split: {"data_batch_1.bin", ...} or {"test_batch.bin"}; {"train.bin"} ...
std::vector<std::string> cifar_split_files(CifarKind kind, Split split);

}  // namespace selfsup::data
