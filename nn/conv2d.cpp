#include "nn/conv2d.h"

#include <cmath>

#include "core/error.h"
#include "nn/init.h"

namespace selfsup::nn {

Conv2d::Conv2d(Conv2dOptions options, core::Generator& gen) : Module("Conv2d"), options_(options) {
  const auto& o = options_;
  core::check(o.in_channels > 0 && o.out_channels > 0 && o.kernel_size > 0 && o.stride > 0 && o.padding >= 0 &&
                  o.dilation > 0 && o.groups > 0 && o.in_channels % o.groups == 0 &&
                  o.out_channels % o.groups == 0,
              "Conv2d: invalid options (in_channels " + std::to_string(o.in_channels) + ", out_channels " +
                  std::to_string(o.out_channels) + ", kernel_size " + std::to_string(o.kernel_size) + ", stride " +
                  std::to_string(o.stride) + ", padding " + std::to_string(o.padding) + ", dilation " +
                  std::to_string(o.dilation) + ", groups " + std::to_string(o.groups) +
                  "); channels must be divisible by groups");
  params_.stride_h = params_.stride_w = o.stride;
  params_.pad_h = params_.pad_w = o.padding;
  params_.dilation_h = params_.dilation_w = o.dilation;
  params_.groups = o.groups;
  weight_ = register_parameter(
      "weight", Tensor::empty({o.out_channels, o.in_channels / o.groups, o.kernel_size, o.kernel_size}));
  if (o.bias) bias_ = register_parameter("bias", Tensor::empty({o.out_channels}));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(core::Generator& gen) {
  init::kaiming_uniform_(weight_.mutable_data(), gen, std::sqrt(5.0));
  if (bias_.defined()) {
    const double fan_in = static_cast<double>(init::calculate_fans(weight_.shape()).fan_in);
    const double bound = 1.0 / std::sqrt(fan_in);
    init::uniform_(bias_.mutable_data(), -bound, bound, gen);
  }
}

Variable Conv2d::forward(const Variable& x) { return autograd::conv2d(x, weight_, bias_, params_); }

std::int64_t Conv2d::flops(const Shape& input_shape, const Shape& output_shape) const {
  if (output_shape.size() != 4) return 0;
  const std::int64_t per_output = (options_.in_channels / options_.groups) * options_.kernel_size * options_.kernel_size;
  return 2 * output_shape[0] * output_shape[1] * output_shape[2] * output_shape[3] * per_output;
}

}  // namespace selfsup::nn
