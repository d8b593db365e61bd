// MobileNetV3-Large with torchvision's module names (features.0..16, avgpool, classifier.0..3),
// so a torchvision state_dict loads with strict matching, and torchvision's initialisation:
// convs kaiming_normal(fan_out) with zero bias, BN 1/0, Linear N(0, 0.01) with zero bias. Every BN
// uses eps 1e-3 and momentum 0.01 (torchvision's MobileNetV3 norm_layer).
// num_classes == 0: classifier = Identity (the whole Linear-Hardswish-Dropout-Linear head goes,
// like `model.classifier = nn.Identity()`), forward returns the pooled features [N, 960].
// in_channels changes only features.0.0.weight ([16, in_channels, 3, 3]).
// reference: torchvision/models/mobilenetv3.py (0.14)
#pragma once

#include <cstdint>
#include <memory>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct MobileNetV3Options {
  std::int64_t num_classes = 1000;
  std::int64_t in_channels = 3;
  double dropout = 0.2;
};

class MobileNetV3 : public Module {
 public:
  explicit MobileNetV3(MobileNetV3Options options, core::Generator& gen = core::default_generator());
  /// x [N, in_channels, H, W] -> logits [N, num_classes] (or features when num_classes == 0).
  Variable forward(const Variable& x) override;
  /// Pooled, flattened features [N, features_dim()] (960).
  Variable forward_features(const Variable& x);
  std::int64_t features_dim() const { return features_dim_; }
  const MobileNetV3Options& options() const { return options_; }

 private:
  MobileNetV3Options options_;
  std::int64_t features_dim_ = 0;
  std::shared_ptr<Module> features_, avgpool_, classifier_;
};

std::shared_ptr<MobileNetV3> mobilenet_v3_large(MobileNetV3Options options = {},
                                                core::Generator& gen = core::default_generator());

}  // namespace selfsup::nn
