// Dataset: an indexable collection of labelled images (cf. Flashlight fl/dataset/Dataset.h).
// `get(i)` returns the image as a float CHW `Image` in [0, 1] (see data/image.h) and an integer
// label. Implementations must allow concurrent `get` calls from several threads (the loader's
// workers call it); everything here is read-only after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/image.h"

namespace selfsup::data {

/// One example: image (float CHW in [0, 1]) and class label (-1 when unlabelled).
struct Sample {
  Image image;
  std::int64_t label = -1;
};

/// Which split of a dataset to read.
enum class Split { train, test };
const char* to_string(Split split);

class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of samples.
  virtual std::int64_t size() const = 0;
  /// Sample `index` in [0, size()); throws ValueError when out of range. Thread-safe.
  virtual Sample get(std::int64_t index) const = 0;
  /// Number of classes (labels are in [0, num_classes())).
  virtual std::int64_t num_classes() const = 0;
  /// Class names in label order (may be empty when unknown).
  virtual std::vector<std::string> class_names() const { return {}; }
  /// Label of sample `index` without decoding the image (default: get(index).label).
  virtual std::int64_t label(std::int64_t index) const { return get(index).label; }
};

/// Images held in memory as uint8 CHW records of one size, plus labels. The CIFAR and IDX readers
/// build one of these; `get` converts a record to float.
class InMemoryDataset : public Dataset {
 public:
  /// `pixels` holds size * C * H * W bytes (record i at i * C * H * W); labels.size() == size.
  InMemoryDataset(std::vector<std::uint8_t> pixels, std::vector<std::int64_t> labels, std::int64_t channels,
                  std::int64_t height, std::int64_t width, std::int64_t num_classes,
                  std::vector<std::string> class_names = {});
  std::int64_t size() const override { return static_cast<std::int64_t>(labels_.size()); }
  Sample get(std::int64_t index) const override;
  std::int64_t num_classes() const override { return num_classes_; }
  std::vector<std::string> class_names() const override { return class_names_; }
  std::int64_t label(std::int64_t index) const override;

  std::int64_t channels() const { return channels_; }
  std::int64_t height() const { return height_; }
  std::int64_t width() const { return width_; }
  /// Pointer to record `index` (C * H * W bytes, CHW).
  const std::uint8_t* record(std::int64_t index) const;
  const std::vector<std::int64_t>& labels() const { return labels_; }

 private:
  std::vector<std::uint8_t> pixels_;
  std::vector<std::int64_t> labels_;
  std::int64_t channels_, height_, width_, num_classes_;
  std::vector<std::string> class_names_;
};

/// Throws ValueError naming `op` when index is outside [0, size).
void check_index(const char* op, std::int64_t index, std::int64_t size);

}  // namespace selfsup::data
