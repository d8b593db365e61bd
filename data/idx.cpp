#include "data/idx.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "data/file_io.h"

namespace selfsup::data {
namespace {

[[noreturn]] void fail(const std::string& message) { throw core::IoError(message); }

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

std::string hex_byte(std::uint8_t value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", value);
  return buf;
}

std::string dims_string(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

}  // namespace

std::int64_t IdxArray::numel() const {
  // A zero dim makes the array empty whatever the others are (and they may be huge: the parser
  // only bounds dims by the data they need, so multiplying first could overflow).
  for (const auto d : dims)
    if (d == 0) return 0;
  std::int64_t n = 1;
  for (const auto d : dims)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<std::int64_t>::max();
  return n;
}

std::size_t idx_element_size(std::uint8_t type) {
  switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

IdxArray parse_idx(const void* bytes, std::size_t size, const std::string& source) {
  const auto* in = static_cast<const std::uint8_t*>(bytes);
  if (size < 4) fail("idx: " + source + " is too short for the 4-byte magic (" + std::to_string(size) + " bytes)");
  if (in[0] != 0 || in[1] != 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02x %02x %02x %02x", in[0], in[1], in[2], in[3]);
    fail("idx: wrong magic number in " + source + " at byte offset 0 (found " + buf + ", expected 00 00 <type> <ndim>" +
         (is_gzip(in, size) ? "; the data is gzip-compressed" : "") + ")");
  }
  const std::size_t element = idx_element_size(in[2]);
  if (element == 0)
    fail("idx: unknown element type " + hex_byte(in[2]) + " in " + source + " at byte offset 2 (expected 08, 09, 0b, 0c, 0d or 0e)");
  const std::size_t ndim = in[3];
  if (ndim == 0) fail("idx: " + source + " declares 0 dimensions at byte offset 3");
  const std::size_t header = 4 + 4 * ndim;
  if (size < header)
    fail("idx: truncated header in " + source + ": " + std::to_string(ndim) + " dimensions need " + std::to_string(header) +
         " bytes, the file has " + std::to_string(size));
  IdxArray out;
  out.type = static_cast<IdxType>(in[2]);
  // Count elements in unsigned 128-bit-safe steps: each dim < 2^32 and we stop past the file size.
  std::size_t count = 1;
  bool too_big = false;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::uint32_t dim = read_be32(in + 4 + 4 * d);
    out.dims.push_back(dim);
    if (dim != 0 && count > (std::numeric_limits<std::size_t>::max() / element) / dim) too_big = true;
    else count *= dim;
  }
  const std::size_t available = size - header;
  if (too_big || count * element > available)
    fail("idx: truncated data in " + source + ": dims " + dims_string(out.dims) + " of " + std::to_string(element) +
         "-byte elements need " + (too_big ? std::string("more than the address space") : std::to_string(count * element)) +
         " bytes after the " + std::to_string(header) + "-byte header, found " + std::to_string(available));
  if (count * element < available)
    fail("idx: " + source + " has " + std::to_string(available - count * element) + " unexpected trailing bytes at byte offset " +
         std::to_string(header + count * element) + " (dims " + dims_string(out.dims) + ")");
  out.data.assign(in + header, in + header + count * element);
  return out;
}

IdxArray read_idx(const std::string& path) {
  const auto bytes = read_maybe_gzip(path);
  return parse_idx(bytes.data(), bytes.size(), path);
}

namespace {

InMemoryDataset make_idx_dataset(const IdxArray& images, const IdxArray& labels, const std::string& images_source,
                                 const std::string& labels_source, std::int64_t num_classes,
                                 std::vector<std::string> class_names) {
  if (images.type != IdxType::u8 || images.dims.size() != 3)
    fail("idx: " + images_source + " is not an image file: expected u8 data with 3 dims [N, H, W] (magic 00000803), got type " +
         hex_byte(static_cast<std::uint8_t>(images.type)) + " with dims " + dims_string(images.dims));
  if (labels.type != IdxType::u8 || labels.dims.size() != 1)
    fail("idx: " + labels_source + " is not a label file: expected u8 data with 1 dim [N] (magic 00000801), got dims " +
         dims_string(labels.dims));
  if (images.dims[0] != labels.dims[0])
    fail("idx: " + images_source + " has " + std::to_string(images.dims[0]) + " images but " + labels_source + " has " +
         std::to_string(labels.dims[0]) + " labels");
  if (images.dims[0] == 0) fail("idx: " + images_source + " holds no images (dims " + dims_string(images.dims) + ")");
  if (images.dims[1] == 0 || images.dims[2] == 0) fail("idx: " + images_source + " has empty images " + dims_string(images.dims));
  std::vector<std::int64_t> label_values(labels.data.size());
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= num_classes)
      fail("idx: label " + std::to_string(labels.data[i]) + " out of range [0, " + std::to_string(num_classes) +
           ") in record " + std::to_string(i) + " (byte offset " + std::to_string(8 + i) + ") of " + labels_source);
    label_values[i] = labels.data[i];
  }
  return InMemoryDataset(images.data, std::move(label_values), 1, images.dims[1], images.dims[2], num_classes,
                         std::move(class_names));
}

}  // namespace

IdxDataset::IdxDataset(const IdxArray& images, const IdxArray& labels, const std::string& images_source,
                       const std::string& labels_source, std::int64_t num_classes, std::vector<std::string> class_names)
    : InMemoryDataset(make_idx_dataset(images, labels, images_source, labels_source, num_classes, std::move(class_names))) {}

IdxDataset::IdxDataset(const std::string& images_path, const std::string& labels_path, std::int64_t num_classes,
                       std::vector<std::string> class_names)
    : IdxDataset(read_idx(images_path), read_idx(labels_path), images_path, labels_path, num_classes,
                 std::move(class_names)) {}

std::string default_fashion_mnist_root() {
  if (const char* env = std::getenv("SELFSUP_FASHION_MNIST_DIR"); env != nullptr && *env != '\0') return env;
  return "/usr/share/datasets/fashion-mnist";
}

std::string find_idx_file(const std::string& root, const std::string& stem, const char* op) {
  const auto plain = (std::filesystem::path(root) / stem).string();
  if (file_exists(plain)) return plain;
  if (file_exists(plain + ".gz")) return plain + ".gz";
  fail(std::string(op) + ": missing file: neither " + plain + " nor " + plain + ".gz exists");
}

namespace {

std::string split_prefix(Split split) { return split == Split::train ? "train" : "t10k"; }

}  // namespace

std::vector<std::string> FashionMnist::names() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
}

std::pair<std::string, std::string> find_idx_split(const std::string& root, Split split, const char* op) {
  std::string images = find_idx_file(root, split_prefix(split) + "-images-idx3-ubyte", op);
  std::string labels = find_idx_file(root, split_prefix(split) + "-labels-idx1-ubyte", op);
  return {std::move(images), std::move(labels)};
}

FashionMnist::FashionMnist(Split split, const std::string& root)
    : FashionMnist(find_idx_split(root, split, "fashion_mnist")) {}

FashionMnist::FashionMnist(const std::pair<std::string, std::string>& files)
    : IdxDataset(files.first, files.second, 10, names()) {}

Mnist::Mnist(const std::string& root, Split split) : Mnist(find_idx_split(root, split, "mnist")) {}

Mnist::Mnist(const std::pair<std::string, std::string>& files)
    : IdxDataset(files.first, files.second, 10, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {}

}  // namespace selfsup::data
