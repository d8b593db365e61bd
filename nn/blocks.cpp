#include "nn/blocks.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace selfsup::nn {

std::int64_t make_divisible(double v, std::int64_t divisor, std::optional<std::int64_t> min_value) {
  const std::int64_t floor_value = min_value.value_or(divisor);
  std::int64_t new_v =
      std::max(floor_value, static_cast<std::int64_t>(v + static_cast<double>(divisor) / 2.0) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return new_v;
}

// ---- Conv2dNormActivation ----

Conv2dNormActivation::Conv2dNormActivation(ConvNormActivationOptions o, core::Generator& gen)
    : Module("Conv2dNormActivation") {
  conv_ = register_module("0", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                                       .out_channels = o.out_channels,
                                                                       .kernel_size = o.kernel_size,
                                                                       .stride = o.stride,
                                                                       .padding = (o.kernel_size - 1) / 2 * o.dilation,
                                                                       .dilation = o.dilation,
                                                                       .groups = o.groups,
                                                                       .bias = !o.norm},
                                                         gen));
  int next = 1;
  if (o.norm) {
    norm_ = register_module(std::to_string(next++),
                            std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = o.out_channels,
                                                                           .eps = o.norm_options.eps,
                                                                           .momentum = o.norm_options.momentum}));
  }
  activation_ = make_activation(o.activation);
  if (activation_) register_module(std::to_string(next), activation_);
}

Variable Conv2dNormActivation::forward(const Variable& x) {
  Variable y = (*conv_)(x);
  if (norm_) y = (*norm_)(y);
  if (activation_) y = (*activation_)(y);
  return y;
}

// ---- SqueezeExcitation ----

SqueezeExcitation::SqueezeExcitation(SqueezeExcitationOptions o, core::Generator& gen)
    : Module("SqueezeExcitation") {
  core::check(o.input_channels > 0 && o.squeeze_channels > 0,
              "SqueezeExcitation: input_channels and squeeze_channels must be positive (" +
                  std::to_string(o.input_channels) + ", " + std::to_string(o.squeeze_channels) + ")");
  avgpool_ = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  fc1_ = register_module("fc1", std::make_shared<Conv2d>(
                                    Conv2dOptions{.in_channels = o.input_channels, .out_channels = o.squeeze_channels},
                                    gen));
  fc2_ = register_module("fc2", std::make_shared<Conv2d>(
                                    Conv2dOptions{.in_channels = o.squeeze_channels, .out_channels = o.input_channels},
                                    gen));
  activation_ = make_activation(o.activation);
  scale_activation_ = make_activation(o.scale_activation);
  core::check(activation_ && scale_activation_, "SqueezeExcitation: activation and scale_activation must not be none");
  register_module("activation", activation_);
  register_module("scale_activation", scale_activation_);
}

Variable SqueezeExcitation::forward(const Variable& x) {
  // scale: [N, C, 1, 1], broadcast over H and W.
  const Variable scale = (*scale_activation_)((*fc2_)((*activation_)((*fc1_)((*avgpool_)(x)))));
  return autograd::mul(x, scale);
}

// ---- MBConv ----

MBConv::MBConv(MBConvOptions o, core::Generator& gen) : Module("MBConv") {
  core::check(o.stride == 1 || o.stride == 2, "MBConv: illegal stride value " + std::to_string(o.stride));
  use_residual_ = o.stride == 1 && o.input_channels == o.out_channels;
  block_ = std::make_shared<Sequential>();
  const std::int64_t expanded = make_divisible(static_cast<double>(o.input_channels) * o.expand_ratio, 8);
  if (expanded != o.input_channels) {
    block_->push_back(std::make_shared<Conv2dNormActivation>(
        ConvNormActivationOptions{.in_channels = o.input_channels,
                                  .out_channels = expanded,
                                  .kernel_size = 1,
                                  .activation = Activation::silu,
                                  .norm_options = o.norm_options},
        gen));
  }
  block_->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = expanded,
                                                                                     .out_channels = expanded,
                                                                                     .kernel_size = o.kernel,
                                                                                     .stride = o.stride,
                                                                                     .groups = expanded,
                                                                                     .activation = Activation::silu,
                                                                                     .norm_options = o.norm_options},
                                                           gen));
  block_->push_back(std::make_shared<SqueezeExcitation>(
      SqueezeExcitationOptions{.input_channels = expanded,
                               .squeeze_channels = std::max<std::int64_t>(1, o.input_channels / 4),
                               .activation = Activation::silu},
      gen));
  block_->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = expanded,
                                                                                     .out_channels = o.out_channels,
                                                                                     .kernel_size = 1,
                                                                                     .activation = Activation::none,
                                                                                     .norm_options = o.norm_options},
                                                           gen));
  register_module("block", block_);
  stochastic_depth_ = register_module("stochastic_depth",
                                      std::make_shared<DropPath>(DropPathOptions{.p = o.stochastic_depth_prob}, gen));
}

Variable MBConv::forward(const Variable& x) {
  Variable y = (*block_)(x);
  if (!use_residual_) return y;
  return autograd::add((*stochastic_depth_)(y), x);
}

// ---- InvertedResidual ----

InvertedResidual::InvertedResidual(InvertedResidualOptions o, core::Generator& gen) : Module("InvertedResidual") {
  core::check(o.stride == 1 || o.stride == 2, "InvertedResidual: illegal stride value " + std::to_string(o.stride));
  use_residual_ = o.stride == 1 && o.input_channels == o.out_channels;
  const Activation act = o.use_hs ? Activation::hardswish : Activation::relu;
  block_ = std::make_shared<Sequential>();
  if (o.expanded_channels != o.input_channels) {
    block_->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = o.input_channels,
                                                                                       .out_channels = o.expanded_channels,
                                                                                       .kernel_size = 1,
                                                                                       .activation = act,
                                                                                       .norm_options = o.norm_options},
                                                             gen));
  }
  block_->push_back(std::make_shared<Conv2dNormActivation>(
      ConvNormActivationOptions{.in_channels = o.expanded_channels,
                                .out_channels = o.expanded_channels,
                                .kernel_size = o.kernel,
                                .stride = o.dilation > 1 ? 1 : o.stride,
                                .groups = o.expanded_channels,
                                .dilation = o.dilation,
                                .activation = act,
                                .norm_options = o.norm_options},
      gen));
  if (o.use_se) {
    block_->push_back(std::make_shared<SqueezeExcitation>(
        SqueezeExcitationOptions{.input_channels = o.expanded_channels,
                                 .squeeze_channels = make_divisible(static_cast<double>(o.expanded_channels / 4), 8),
                                 .activation = Activation::relu,
                                 .scale_activation = Activation::hardsigmoid},
        gen));
  }
  block_->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = o.expanded_channels,
                                                                                     .out_channels = o.out_channels,
                                                                                     .kernel_size = 1,
                                                                                     .activation = Activation::none,
                                                                                     .norm_options = o.norm_options},
                                                           gen));
  register_module("block", block_);
}

Variable InvertedResidual::forward(const Variable& x) {
  Variable y = (*block_)(x);
  return use_residual_ ? autograd::add(y, x) : y;
}

// ---- ResNet blocks ----

namespace {

std::shared_ptr<Conv2d> conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t groups,
                                core::Generator& gen) {
  return std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in,
                                                .out_channels = out,
                                                .kernel_size = 3,
                                                .stride = stride,
                                                .padding = 1,
                                                .groups = groups,
                                                .bias = false},
                                  gen);
}

std::shared_ptr<Conv2d> conv1x1(std::int64_t in, std::int64_t out, std::int64_t stride, core::Generator& gen) {
  return std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = in, .out_channels = out, .kernel_size = 1, .stride = stride, .bias = false}, gen);
}

std::shared_ptr<BatchNorm2d> bn(std::int64_t channels) {
  return std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = channels});
}

std::shared_ptr<Sequential> downsample(const ResidualBlockOptions& o, std::int64_t out, core::Generator& gen) {
  auto seq = std::make_shared<Sequential>();
  seq->push_back(conv1x1(o.inplanes, out, o.stride, gen));
  seq->push_back(bn(out));
  return seq;
}

void check_block(const char* what, const ResidualBlockOptions& o) {
  core::check(o.inplanes > 0 && o.planes > 0 && o.stride > 0 && o.groups > 0 && o.base_width > 0,
              std::string(what) + ": inplanes, planes, stride, groups and base_width must be positive (inplanes " +
                  std::to_string(o.inplanes) + ", planes " + std::to_string(o.planes) + ", stride " +
                  std::to_string(o.stride) + ")");
}

}  // namespace

BasicBlock::BasicBlock(ResidualBlockOptions o, core::Generator& gen) : Module("BasicBlock") {
  check_block("BasicBlock", o);
  core::check(o.groups == 1 && o.base_width == 64, "BasicBlock: only supports groups=1 and base_width=64");
  conv1_ = register_module("conv1", conv3x3(o.inplanes, o.planes, o.stride, 1, gen));
  bn1_ = register_module("bn1", bn(o.planes));
  register_module("relu", std::make_shared<ReLU>());
  conv2_ = register_module("conv2", conv3x3(o.planes, o.planes, 1, 1, gen));
  bn2_ = register_module("bn2", bn(o.planes));
  if (o.downsample) downsample_ = register_module("downsample", downsample(o, o.planes * kExpansion, gen));
}

Variable BasicBlock::forward(const Variable& x) {
  Variable out = autograd::relu((*bn1_)((*conv1_)(x)));
  out = (*bn2_)((*conv2_)(out));
  const Variable identity = downsample_ ? (*downsample_)(x) : x;
  return autograd::relu(autograd::add(out, identity));
}

Bottleneck::Bottleneck(ResidualBlockOptions o, core::Generator& gen) : Module("Bottleneck") {
  check_block("Bottleneck", o);
  const std::int64_t width = o.planes * o.base_width / 64 * o.groups;
  conv1_ = register_module("conv1", conv1x1(o.inplanes, width, 1, gen));
  bn1_ = register_module("bn1", bn(width));
  conv2_ = register_module("conv2", conv3x3(width, width, o.stride, o.groups, gen));
  bn2_ = register_module("bn2", bn(width));
  conv3_ = register_module("conv3", conv1x1(width, o.planes * kExpansion, 1, gen));
  bn3_ = register_module("bn3", bn(o.planes * kExpansion));
  register_module("relu", std::make_shared<ReLU>());
  if (o.downsample) downsample_ = register_module("downsample", downsample(o, o.planes * kExpansion, gen));
}

Variable Bottleneck::forward(const Variable& x) {
  Variable out = autograd::relu((*bn1_)((*conv1_)(x)));
  out = autograd::relu((*bn2_)((*conv2_)(out)));
  out = (*bn3_)((*conv3_)(out));
  const Variable identity = downsample_ ? (*downsample_)(x) : x;
  return autograd::relu(autograd::add(out, identity));
}

}  // namespace selfsup::nn
