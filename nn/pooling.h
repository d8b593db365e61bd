// Pooling and flattening modules (torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten).
// x [N, C, H, W] -> y [N, C, P, Q] for the pools; square windows; stride 0 means "= kernel_size"
// (torch's stride=None).
#pragma once

#include <cstdint>

#include "nn/module.h"

namespace selfsup::nn {

struct MaxPool2dOptions {
  std::int64_t kernel_size = 1;
  std::int64_t stride = 0;  // 0: kernel_size
  std::int64_t padding = 0;
  bool ceil_mode = false;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions options);
  Variable forward(const Variable& x) override;
  const MaxPool2dOptions& options() const { return options_; }

 private:
  MaxPool2dOptions options_;
};

struct AvgPool2dOptions {
  std::int64_t kernel_size = 1;
  std::int64_t stride = 0;  // 0: kernel_size
  std::int64_t padding = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(AvgPool2dOptions options);
  Variable forward(const Variable& x) override;
  const AvgPool2dOptions& options() const { return options_; }

 private:
  AvgPool2dOptions options_;
};

struct AdaptiveAvgPool2dOptions {
  std::int64_t output_h = 1;
  std::int64_t output_w = 1;
};

/// Mean over PyTorch's adaptive windows; output [N, C, output_h, output_w].
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options = {});
  Variable forward(const Variable& x) override;
  const AdaptiveAvgPool2dOptions& options() const { return options_; }

 private:
  AdaptiveAvgPool2dOptions options_;
};

struct FlattenOptions {
  std::int64_t start_dim = 1;
  std::int64_t end_dim = -1;
};

/// Merges dims start_dim..end_dim (torch.nn.Flatten defaults: keep the batch axis).
class Flatten : public Module {
 public:
  explicit Flatten(FlattenOptions options = {}) : Module("Flatten"), options_(options) {}
  Variable forward(const Variable& x) override;

 private:
  FlattenOptions options_;
};

}  // namespace selfsup::nn
