// ResNet-18/34/50/101 with torchvision's module names (conv1, bn1, relu, maxpool, layer1..4,
// avgpool, fc), so a torchvision state_dict loads with strict matching, and torchvision's default
// initialisation: every conv kaiming_normal(fan_out, relu), BN weight 1 / bias 0, fc torch's
// Linear default, optionally the last BN of each block zeroed (zero_init_residual).
// Options beyond torchvision (all off by default, so the default model *is* torchvision's):
//   cifar_stem        conv1 = 3x3 stride 1 padding 1 and maxpool = Identity (SimCLR-style CIFAR
//                     stem; only conv1.weight's shape changes, [64, C, 3, 3]);
//   width_multiplier  every channel count (stem and the four stages) scaled by it and rounded;
//   in_channels       1 for grayscale inputs (conv1.weight [64, 1, k, k]);
//   num_classes == 0  fc = Identity: forward returns the pooled features [N, features_dim()].
// reference: torchvision/models/resnet.py (0.14)
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct ResNetOptions {
  std::int64_t num_classes = 1000;
  bool cifar_stem = false;
  double width_multiplier = 1.0;
  std::int64_t in_channels = 3;
  bool zero_init_residual = false;
};

enum class ResNetBlock { basic, bottleneck };

class ResNet : public Module {
 public:
  /// layers: blocks per stage (e.g. {2, 2, 2, 2} for ResNet-18).
  ResNet(ResNetBlock block, std::vector<std::int64_t> layers, ResNetOptions options,
         core::Generator& gen = core::default_generator());
  /// x [N, in_channels, H, W] -> logits [N, num_classes], or features [N, features_dim()] when
  /// num_classes == 0.
  Variable forward(const Variable& x) override;
  /// The pooled, flattened features before fc: [N, features_dim()].
  Variable forward_features(const Variable& x);
  /// Width of the pooled features (512 * expansion * width_multiplier).
  std::int64_t features_dim() const { return features_dim_; }
  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  std::int64_t features_dim_ = 0;
  std::shared_ptr<Module> conv1_, bn1_, relu_, maxpool_, avgpool_, fc_;
  std::vector<std::shared_ptr<Module>> stages_;
};

std::shared_ptr<ResNet> resnet18(ResNetOptions options = {}, core::Generator& gen = core::default_generator());
std::shared_ptr<ResNet> resnet34(ResNetOptions options = {}, core::Generator& gen = core::default_generator());
std::shared_ptr<ResNet> resnet50(ResNetOptions options = {}, core::Generator& gen = core::default_generator());
std::shared_ptr<ResNet> resnet101(ResNetOptions options = {}, core::Generator& gen = core::default_generator());

}  // namespace selfsup::nn
