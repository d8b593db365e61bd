// IDX files (MNIST, Fashion-MNIST; http://yann.lecun.com/exdb/mnist/): magic 00 00 <type> <ndim>,
// then ndim big-endian uint32 sizes, then the data in C order (multi-byte values big-endian).
// Files may be plain or gzip (read with zlib). Debian's dataset-fashion-mnist package installs
// the gzipped files under /usr/share/datasets/fashion-mnist/, which is the default root here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace selfsup::data {

/// IDX element types (the third magic byte).
enum class IdxType : std::uint8_t { u8 = 0x08, i8 = 0x09, i16 = 0x0B, i32 = 0x0C, f32 = 0x0D, f64 = 0x0E };

/// A parsed IDX array; `data` holds the raw element bytes still big-endian (for u8, the values).
struct IdxArray {
  IdxType type = IdxType::u8;
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
  std::int64_t numel() const;
};

/// Size in bytes of one element of `type`; 0 for an unknown type byte.
std::size_t idx_element_size(std::uint8_t type);
/// Parses an (already decompressed) IDX file in memory; `source` names it in errors. Throws
/// IoError for a wrong magic, unknown type, truncated header or data, or trailing bytes.
IdxArray parse_idx(const void* bytes, std::size_t size, const std::string& source);
/// Reads and parses a plain or gzipped IDX file.
IdxArray read_idx(const std::string& path);

/// MNIST-style images + labels: images u8 [N, H, W], labels u8 [N] with values < num_classes.
class IdxDataset : public InMemoryDataset {
 public:
  IdxDataset(const std::string& images_path, const std::string& labels_path, std::int64_t num_classes = 10,
             std::vector<std::string> class_names = {});
  /// From parsed arrays; the paths are only used in error messages.
  IdxDataset(const IdxArray& images, const IdxArray& labels, const std::string& images_source,
             const std::string& labels_source, std::int64_t num_classes = 10, std::vector<std::string> class_names = {});
};

/// Where Debian's dataset-fashion-mnist installs the files, or $SELFSUP_FASHION_MNIST_DIR when set.
std::string default_fashion_mnist_root();
/// The path of `<stem>` under `root`, trying `<stem>` then `<stem>.gz`; throws IoError naming both.
std::string find_idx_file(const std::string& root, const std::string& stem, const char* op);

/// The images and labels files of an MNIST-style split under `root` ("train"/"t10k" prefixes),
/// looked up in that order; throws IoError naming the first one missing.
std::pair<std::string, std::string> find_idx_split(const std::string& root, Split split, const char* op);

/// Fashion-MNIST (28x28 grayscale, 10 classes) from `root` (default: default_fashion_mnist_root()).
class FashionMnist : public IdxDataset {
 public:
  explicit FashionMnist(Split split, const std::string& root = default_fashion_mnist_root());
  static std::vector<std::string> names();

 private:
  explicit FashionMnist(const std::pair<std::string, std::string>& files);
};

/// MNIST from `root` (train-images-idx3-ubyte[.gz] etc.; no default location).
class Mnist : public IdxDataset {
 public:
  Mnist(const std::string& root, Split split);

 private:
  explicit Mnist(const std::pair<std::string, std::string>& files);
};

}  // namespace selfsup::data
