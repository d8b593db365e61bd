#include "data/dataset.h"

#include "core/error.h"

namespace selfsup::data {

const char* to_string(Split split) { return split == Split::train ? "train" : "test"; }

void check_index(const char* op, std::int64_t index, std::int64_t size) {
  if (index < 0 || index >= size)
    throw core::ValueError(std::string(op) + ": index " + std::to_string(index) + " is out of range [0, " +
                           std::to_string(size) + ")");
}

InMemoryDataset::InMemoryDataset(std::vector<std::uint8_t> pixels, std::vector<std::int64_t> labels,
                                 std::int64_t channels, std::int64_t height, std::int64_t width,
                                 std::int64_t num_classes, std::vector<std::string> class_names)
    : pixels_(std::move(pixels)),
      labels_(std::move(labels)),
      channels_(channels),
      height_(height),
      width_(width),
      num_classes_(num_classes),
      class_names_(std::move(class_names)) {
  core::check(channels > 0 && height > 0 && width > 0, "InMemoryDataset: image dims must be positive, got [" +
                                                           std::to_string(channels) + ", " + std::to_string(height) +
                                                           ", " + std::to_string(width) + "]");
  std::int64_t record_elements = 0;
  core::check(!__builtin_mul_overflow(channels, height, &record_elements) &&
                  !__builtin_mul_overflow(record_elements, width, &record_elements),
              "InMemoryDataset: image dims overflow");
  const auto record = static_cast<std::size_t>(record_elements);
  core::check(pixels_.size() == record * labels_.size(),
              "InMemoryDataset: " + std::to_string(pixels_.size()) + " pixel bytes do not hold " +
                  std::to_string(labels_.size()) + " records of " + std::to_string(record) + " bytes");
}

const std::uint8_t* InMemoryDataset::record(std::int64_t index) const {
  check_index("InMemoryDataset::record", index, size());
  return pixels_.data() + static_cast<std::size_t>(index) * static_cast<std::size_t>(channels_ * height_ * width_);
}

Sample InMemoryDataset::get(std::int64_t index) const {
  check_index("InMemoryDataset::get", index, size());
  return Sample{to_float(record(index), channels_, height_, width_), labels_[static_cast<std::size_t>(index)]};
}

std::int64_t InMemoryDataset::label(std::int64_t index) const {
  check_index("InMemoryDataset::label", index, size());
  return labels_[static_cast<std::size_t>(index)];
}

}  // namespace selfsup::data
