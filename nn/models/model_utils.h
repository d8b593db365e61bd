// Helpers shared by the model constructors (internal to nn/models).
#pragma once

#include <functional>

#include "nn/batch_norm.h"
#include "nn/conv2d.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace selfsup::nn {

/// Calls fn on every descendant of `root` (not root itself), depth first in registration order,
/// like torch's `for m in self.modules()`. Works inside a constructor, where named_modules()
/// cannot (it needs shared_from_this).
inline void for_each_submodule(const Module& root, const std::function<void(Module&)>& fn) {
  for (const auto& [name, child] : root.named_children()) {
    fn(*child);
    for_each_submodule(*child, fn);
  }
}

/// The tensor of a parameter, for in-place initialisation.
inline Tensor& param_data(Variable v) { return v.mutable_data(); }

/// torchvision's initialisation of its mobile models (EfficientNet, MobileNetV3): convs
/// kaiming_normal (fan_out) with zero bias, batch norms weight 1 / bias 0, and each Linear by
/// `init_linear`.
inline void init_mobile_model(Module& model, core::Generator& gen, const std::function<void(Linear&)>& init_linear) {
  for_each_submodule(model, [&](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) {
      init::kaiming_normal_(param_data(conv->weight()), gen, 0.0, init::FanMode::fan_out);
      if (conv->bias().defined()) init::zeros_(param_data(conv->bias()));
    } else if (auto* norm = dynamic_cast<BatchNorm*>(&m)) {
      norm->reset_parameters();
    } else if (auto* linear = dynamic_cast<Linear*>(&m)) {
      init_linear(*linear);
    }
  });
}

}  // namespace selfsup::nn
