#include "nn/pooling.h"

#include <string>

#include "core/error.h"

namespace selfsup::nn {

MaxPool2d::MaxPool2d(MaxPool2dOptions options) : Module("MaxPool2d"), options_(options) {
  if (options_.stride == 0) options_.stride = options_.kernel_size;
  core::check(options_.kernel_size > 0 && options_.stride > 0 && options_.padding >= 0,
              "MaxPool2d: kernel_size and stride must be positive and padding non-negative (kernel_size " +
                  std::to_string(options_.kernel_size) + ", stride " + std::to_string(options_.stride) +
                  ", padding " + std::to_string(options_.padding) + ")");
}

Variable MaxPool2d::forward(const Variable& x) {
  return autograd::max_pool2d(x, options_.kernel_size, options_.stride, options_.padding, options_.ceil_mode);
}

AvgPool2d::AvgPool2d(AvgPool2dOptions options) : Module("AvgPool2d"), options_(options) {
  if (options_.stride == 0) options_.stride = options_.kernel_size;
  core::check(options_.kernel_size > 0 && options_.stride > 0 && options_.padding >= 0,
              "AvgPool2d: kernel_size and stride must be positive and padding non-negative (kernel_size " +
                  std::to_string(options_.kernel_size) + ", stride " + std::to_string(options_.stride) +
                  ", padding " + std::to_string(options_.padding) + ")");
}

Variable AvgPool2d::forward(const Variable& x) {
  return autograd::avg_pool2d(x, options_.kernel_size, options_.stride, options_.padding, options_.ceil_mode,
                              options_.count_include_pad);
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options)
    : Module("AdaptiveAvgPool2d"), options_(options) {
  core::check(options_.output_h > 0 && options_.output_w > 0,
              "AdaptiveAvgPool2d: output size must be positive (" + std::to_string(options_.output_h) + "x" +
                  std::to_string(options_.output_w) + ")");
}

Variable AdaptiveAvgPool2d::forward(const Variable& x) {
  return autograd::adaptive_avg_pool2d(x, options_.output_h, options_.output_w);
}

Variable Flatten::forward(const Variable& x) { return autograd::flatten(x, options_.start_dim, options_.end_dim); }

}  // namespace selfsup::nn
