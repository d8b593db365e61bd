// Linear: y = x W^T + b (torch.nn.Linear). x [*, in_features] -> y [*, out_features].
// Parameters: weight [out_features, in_features], bias [out_features] (absent when bias = false).
// Default initialisation as torch's reset_parameters: W ~ kaiming_uniform(a = sqrt(5)), which is
// U(-1/sqrt(in), 1/sqrt(in)), and b ~ U(-1/sqrt(in), 1/sqrt(in)).
#pragma once

#include <cstdint>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct LinearOptions {
  std::int64_t in_features = 0;
  std::int64_t out_features = 0;
  bool bias = true;
};

class Linear : public Module {
 public:
  explicit Linear(LinearOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  /// torch's default initialisation, drawn from `gen`.
  void reset_parameters(core::Generator& gen);

  const LinearOptions& options() const { return options_; }
  const Variable& weight() const { return weight_; }
  /// Undefined when options().bias is false.
  const Variable& bias() const { return bias_; }

 protected:
  std::int64_t flops(const Shape& input_shape, const Shape& output_shape) const override;

 private:
  LinearOptions options_;
  Variable weight_;
  Variable bias_;
};

}  // namespace selfsup::nn
