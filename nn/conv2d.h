// Conv2d (torch.nn.Conv2d) with square kernel, stride, padding and dilation, and groups.
// x [N, C, H, W] -> y [N, K, P, Q]; weight [K, C/groups, R, S], bias [K] (absent when bias = false).
// Default initialisation as torch's reset_parameters: W ~ kaiming_uniform(a = sqrt(5)), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C/groups * R * S, and the same bound for b.
#pragma once

#include <cstdint>

#include "core/generator.h"
#include "nn/module.h"

namespace selfsup::nn {

struct Conv2dOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel_size = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(Conv2dOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  /// torch's default initialisation, drawn from `gen`.
  void reset_parameters(core::Generator& gen);

  const Conv2dOptions& options() const { return options_; }
  const Variable& weight() const { return weight_; }
  /// Undefined when options().bias is false.
  const Variable& bias() const { return bias_; }

 protected:
  /// 2 * N * K * P * Q * (C/groups) * R * S (multiply-adds x 2; the bias add is not counted).
  std::int64_t flops(const Shape& input_shape, const Shape& output_shape) const override;

 private:
  Conv2dOptions options_;
  core::Conv2dParams params_;
  Variable weight_;
  Variable bias_;
};

}  // namespace selfsup::nn
