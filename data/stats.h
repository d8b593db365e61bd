// Per-channel normalisation statistics on [0, 1] pixels: known constants (ecosystem.md 3.5) or
// computed from a dataset (population mean and std over all pixels of each channel).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace selfsup::data {

struct Normalization {
  std::vector<double> mean;
  std::vector<double> std;

  /// (0.4914, 0.4822, 0.4465) / (0.2470, 0.2435, 0.2616): the true dataset std (solo-learn),
  /// not the legacy (0.2023, 0.1994, 0.2010), which is a mean of per-image stds.
  static Normalization cifar10();
  static Normalization cifar100();
  /// 0.2860 / 0.3530, computed on Debian's Fashion-MNIST train split.
  static Normalization fashion_mnist();
  static Normalization mnist();
  static Normalization imagenet();
  /// "mean=[...] std=[...]" for logs and checkpoint metadata.
  std::string to_string() const;
};

/// Mean and population std of each channel over the first `max_samples` samples (all when
/// negative), accumulated in double. All images must have the same channel count.
Normalization compute_normalization(const Dataset& dataset, std::int64_t max_samples = -1);

}  // namespace selfsup::data
