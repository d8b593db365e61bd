// EfficientNet-B0 with torchvision's module names (features.0..8, avgpool, classifier.0 Dropout,
// classifier.1 Linear), so a torchvision state_dict loads with strict matching, and torchvision's
// initialisation: convs kaiming_normal(fan_out) with zero bias, BN 1/0, Linear
// U(-1/sqrt(out_features), 1/sqrt(out_features)) with zero bias. Stochastic depth probability
// grows linearly over the 16 MBConv blocks: p_i = stochastic_depth_prob * i / 16.
// num_classes == 0: classifier = Identity and forward returns the pooled features [N, 1280].
// in_channels changes only features.0.0.weight ([32, in_channels, 3, 3]).
// reference: torchvision/models/efficientnet.py (0.14)
#pragma once

#include <cstdint>
#include <memory>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct EfficientNetOptions {
  std::int64_t num_classes = 1000;
  std::int64_t in_channels = 3;
  double dropout = 0.2;
  double stochastic_depth_prob = 0.2;
};

class EfficientNet : public Module {
 public:
  explicit EfficientNet(EfficientNetOptions options, core::Generator& gen = core::default_generator());
  /// x [N, in_channels, H, W] -> logits [N, num_classes] (or features when num_classes == 0).
  Variable forward(const Variable& x) override;
  /// Pooled, flattened features [N, features_dim()].
  Variable forward_features(const Variable& x);
  std::int64_t features_dim() const { return features_dim_; }
  const EfficientNetOptions& options() const { return options_; }

 private:
  EfficientNetOptions options_;
  std::int64_t features_dim_ = 0;
  std::shared_ptr<Module> features_, avgpool_, classifier_;
};

std::shared_ptr<EfficientNet> efficientnet_b0(EfficientNetOptions options = {},
                                              core::Generator& gen = core::default_generator());

}  // namespace selfsup::nn
