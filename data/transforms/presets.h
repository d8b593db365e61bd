// Named augmentation recipes for small images, as MultiViewTransforms of two views.
//   simclr: RandomResizedCrop(scale 0.08-1) -> HFlip(0.5) -> ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8)
//           -> RandomGrayscale(0.2) -> Normalize. No blur: SimCLR (Chen et al. 2020, B.9) drops
//           it for CIFAR-10.
//   mocov2: RandomResizedCrop(scale 0.2-1) -> ColorJitter(0.4, 0.4, 0.4, 0.1, p=0.8)
//           -> RandomGrayscale(0.2) -> GaussianBlur(sigma 0.1-2, p=0.5) -> HFlip(0.5) -> Normalize
//           (the MoCo v2 ImageNet order, with the kernel scaled to the image).
//   byol:   RandomResizedCrop(scale 0.08-1) -> HFlip(0.5) -> ColorJitter(0.4, 0.4, 0.2, 0.1, p=0.8)
//           -> RandomGrayscale(0.2) -> GaussianBlur(sigma 0.1-2, p=1.0 | 0.1)
//           -> RandomSolarize(0.5, p=0.0 | 0.2) -> Normalize   (view 1 | view 2, Grill et al. 2020).
// The blur kernel is the odd number nearest 10% of the image side, at least 3 (3 for 28-32 px).
// For 1-channel images (Fashion-MNIST) saturation, hue and grayscale are left out, since
// torchvision makes them no-ops on one channel anyway.
#pragma once

#include <string>
#include <vector>

#include "data/multi_view.h"

namespace selfsup::data {

struct PresetOptions {
  std::int64_t size = 32;      // output side (square)
  std::int64_t channels = 3;   // 1 or 3
  std::vector<double> mean{};  // per channel (or one value)
  std::vector<double> std{};
};

/// The recipe `name` ("simclr", "mocov2" or "byol"); throws ValueError listing the names otherwise.
MultiViewTransform make_preset(const std::string& name, const PresetOptions& options);
/// 32x32 RGB with the CIFAR-10 statistics.
MultiViewTransform cifar_preset(const std::string& name);
/// 28x28 grayscale with the Fashion-MNIST statistics.
MultiViewTransform fashion_mnist_preset(const std::string& name);
/// The recipe names make_preset accepts.
std::vector<std::string> preset_names();

}  // namespace selfsup::data
