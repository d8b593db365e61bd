#include "data/cifar.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/file_io.h"

namespace selfsup::data {
namespace {

const char* kind_name(CifarKind kind) { return kind == CifarKind::cifar10 ? "cifar10" : "cifar100"; }

/// `root` itself when it holds the first file of the split, else root/<archive folder> when that does.
std::string resolve_root(const std::string& root, CifarKind kind, Split split) {
  const auto files = cifar_split_files(kind, split);
  if (file_exists((std::filesystem::path(root) / files.front()).string())) return root;
  const char* sub = kind == CifarKind::cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary";
  const auto nested = std::filesystem::path(root) / sub;
  if (file_exists((nested / files.front()).string())) return nested.string();
  return root;
}

CifarRecords read_split(const std::string& root, CifarKind kind, Split split) {
  CifarRecords all;
  for (const auto& name : cifar_split_files(kind, split)) {
    const std::string path = (std::filesystem::path(root) / name).string();
    if (!file_exists(path))
      throw core::IoError(std::string(kind_name(kind)) + ": missing " + to_string(split) + " split file " + path);
    const auto bytes = read_file(path);
    auto part = parse_cifar(bytes.data(), bytes.size(), kind, path);
    all.pixels.insert(all.pixels.end(), part.pixels.begin(), part.pixels.end());
    all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
    all.coarse_labels.insert(all.coarse_labels.end(), part.coarse_labels.begin(), part.coarse_labels.end());
  }
  return all;
}

/// Non-empty lines of a text file (trailing whitespace trimmed); empty when the file is absent.
std::vector<std::string> read_names(const std::string& path) {
  std::vector<std::string> names;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

}  // namespace

std::size_t cifar_record_size(CifarKind kind) { return kind == CifarKind::cifar10 ? 3073 : 3074; }

std::vector<std::string> cifar_split_files(CifarKind kind, Split split) {
  if (kind == CifarKind::cifar10) {
    if (split == Split::test) return {"test_batch.bin"};
    return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
  }
  return {split == Split::train ? "train.bin" : "test.bin"};
}

CifarRecords parse_cifar(const void* bytes, std::size_t size, CifarKind kind, const std::string& source) {
  const std::size_t record = cifar_record_size(kind);
  const std::string op = kind_name(kind);
  if (size == 0) throw core::IoError(op + ": " + source + " is empty (expected records of " + std::to_string(record) + " bytes)");
  if (size % record != 0)
    throw core::IoError(op + ": " + source + " has " + std::to_string(size) + " bytes, not a multiple of the " +
                        std::to_string(record) + "-byte record (truncated or wrong format: " +
                        std::to_string(size / record) + " whole records and " + std::to_string(size % record) +
                        " bytes left over at byte offset " + std::to_string(size - size % record) + ")");
  const std::size_t count = size / record;
  const auto* in = static_cast<const std::uint8_t*>(bytes);
  CifarRecords out;
  out.pixels.resize(count * kCifarPixels);
  out.labels.resize(count);
  if (kind == CifarKind::cifar100) out.coarse_labels.resize(count);
  const std::size_t label_bytes = record - kCifarPixels;
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* r = in + i * record;
    auto check_label = [&](std::uint8_t value, int limit, const char* what, std::size_t byte) {
      if (value >= limit)
        throw core::IoError(op + ": " + what + " " + std::to_string(value) + " out of range [0, " + std::to_string(limit) +
                            ") in record " + std::to_string(i) + " (byte offset " + std::to_string(i * record + byte) +
                            ") of " + source);
    };
    if (kind == CifarKind::cifar10) {
      check_label(r[0], 10, "label", 0);
      out.labels[i] = r[0];
    } else {
      check_label(r[0], 20, "coarse label", 0);
      check_label(r[1], 100, "fine label", 1);
      out.coarse_labels[i] = r[0];
      out.labels[i] = r[1];
    }
    std::copy(r + label_bytes, r + record, out.pixels.begin() + static_cast<std::ptrdiff_t>(i * kCifarPixels));
  }
  return out;
}

namespace {

std::vector<std::string> cifar10_names(const std::string& root) {
  auto names = read_names((std::filesystem::path(root) / "batches.meta.txt").string());
  if (names.size() == 10) return names;
  return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
}

InMemoryDataset make_cifar10(const std::string& given_root, Split split) {
  const std::string root = resolve_root(given_root, CifarKind::cifar10, split);
  auto records = read_split(root, CifarKind::cifar10, split);
  return InMemoryDataset(std::move(records.pixels), std::move(records.labels), kCifarChannels, kCifarHeight,
                         kCifarWidth, 10, cifar10_names(root));
}

}  // namespace

Cifar10::Cifar10(const std::string& root, Split split) : InMemoryDataset(make_cifar10(root, split)) {}

Cifar100::Cifar100(const std::string& given_root, Split split, Cifar100Labels label)
    : Cifar100(read_split(resolve_root(given_root, CifarKind::cifar100, split), CifarKind::cifar100, split), label,
               read_names((std::filesystem::path(resolve_root(given_root, CifarKind::cifar100, split)) /
                           (label == Cifar100Labels::fine ? "fine_label_names.txt" : "coarse_label_names.txt"))
                              .string())) {}

Cifar100::Cifar100(CifarRecords records, Cifar100Labels label, std::vector<std::string> names)
    : InMemoryDataset(std::move(records.pixels),
                      label == Cifar100Labels::fine ? records.labels : records.coarse_labels, kCifarChannels,
                      kCifarHeight, kCifarWidth, label == Cifar100Labels::fine ? 100 : 20,
                      names.size() == (label == Cifar100Labels::fine ? 100u : 20u) ? std::move(names)
                                                                                     : std::vector<std::string>{}),
      fine_(std::move(records.labels)),
      coarse_(std::move(records.coarse_labels)) {}

std::int64_t Cifar100::fine_label(std::int64_t index) const {
  check_index("Cifar100::fine_label", index, size());
  return fine_[static_cast<std::size_t>(index)];
}

std::int64_t Cifar100::coarse_label(std::int64_t index) const {
  check_index("Cifar100::coarse_label", index, size());
  return coarse_[static_cast<std::size_t>(index)];
}

}  // namespace selfsup::data
