// Building blocks of the torchvision backbones, with torchvision's submodule names so state dict
// keys match: Conv2dNormActivation (torchvision.ops.misc), SqueezeExcitation (torchvision.ops.misc),
// MBConv (EfficientNet), InvertedResidual (MobileNetV3), BasicBlock and Bottleneck (ResNet).
// Letters: x [N, C, H, W]. Every block takes the Generator its layers draw their default
// initialisation from; the model constructors then re-initialise as torchvision does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/batch_norm.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/module.h"
#include "nn/pooling.h"

namespace selfsup::nn {

/// torchvision's _make_divisible: round v to the nearest multiple of `divisor` (at least
/// min_value, default divisor), going up one step if that lost more than 10%.
std::int64_t make_divisible(double v, std::int64_t divisor, std::optional<std::int64_t> min_value = std::nullopt);

/// BatchNorm hyper-parameters shared by every BN of a block or model.
struct NormOptions {
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;
};

struct ConvNormActivationOptions {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::int64_t kernel_size = 3;
  std::int64_t stride = 1;
  std::int64_t groups = 1;
  std::int64_t dilation = 1;
  /// Activation::none: no activation module.
  Activation activation = Activation::relu;
  /// false: no BatchNorm, and the conv gets a bias (torchvision: bias = norm_layer is None).
  bool norm = true;
  NormOptions norm_options = {};
};

/// Conv2d (padding (k - 1) / 2 * dilation) -> BatchNorm2d -> activation, children "0", "1", "2"
/// as torchvision's Conv2dNormActivation (a Sequential).
class Conv2dNormActivation : public Module {
 public:
  explicit Conv2dNormActivation(ConvNormActivationOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  const std::shared_ptr<Conv2d>& conv() const { return conv_; }
  /// Null when options.norm is false.
  const std::shared_ptr<BatchNorm2d>& norm() const { return norm_; }

 private:
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> norm_;
  std::shared_ptr<Module> activation_;
};

struct SqueezeExcitationOptions {
  std::int64_t input_channels = 0;
  std::int64_t squeeze_channels = 0;
  Activation activation = Activation::relu;
  Activation scale_activation = Activation::sigmoid;
};

/// y = x * scale_activation(fc2(activation(fc1(avgpool(x))))), fc1/fc2 1x1 convs with bias.
/// Children: avgpool, fc1, fc2, activation, scale_activation (torchvision's order).
class SqueezeExcitation : public Module {
 public:
  explicit SqueezeExcitation(SqueezeExcitationOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;

 private:
  std::shared_ptr<AdaptiveAvgPool2d> avgpool_;
  std::shared_ptr<Conv2d> fc1_, fc2_;
  std::shared_ptr<Module> activation_, scale_activation_;
};

struct MBConvOptions {
  std::int64_t input_channels = 0;
  std::int64_t out_channels = 0;
  double expand_ratio = 1.0;
  std::int64_t kernel = 3;
  std::int64_t stride = 1;
  double stochastic_depth_prob = 0.0;
  NormOptions norm_options = {};
};

/// EfficientNet's MBConv: [expand 1x1 ConvBNSiLU] -> depthwise ConvBNSiLU -> SE (squeeze
/// max(1, input_channels / 4), SiLU, Sigmoid) -> project 1x1 ConvBN, children block.0..3 and
/// stochastic_depth. Residual (with stochastic depth on the branch) when stride 1 and in == out.
/// reference: torchvision/models/efficientnet.py (MBConv)
class MBConv : public Module {
 public:
  explicit MBConv(MBConvOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  bool use_residual() const { return use_residual_; }
  const std::shared_ptr<DropPath>& stochastic_depth() const { return stochastic_depth_; }

 private:
  bool use_residual_;
  std::shared_ptr<Sequential> block_;
  std::shared_ptr<DropPath> stochastic_depth_;
};

struct InvertedResidualOptions {
  std::int64_t input_channels = 0;
  std::int64_t kernel = 3;
  std::int64_t expanded_channels = 0;
  std::int64_t out_channels = 0;
  bool use_se = false;
  /// Hardswish if true, else ReLU.
  bool use_hs = false;
  std::int64_t stride = 1;
  std::int64_t dilation = 1;
  NormOptions norm_options = {.eps = 1e-3, .momentum = 0.01};
};

/// MobileNetV3's block: [expand 1x1] -> depthwise (stride 1 when dilated) -> [SE with squeeze
/// make_divisible(expanded / 4, 8), ReLU, Hardsigmoid] -> project 1x1 ConvBN, child "block".
/// Residual when stride 1 and in == out. reference: torchvision/models/mobilenetv3.py
class InvertedResidual : public Module {
 public:
  explicit InvertedResidual(InvertedResidualOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  bool use_residual() const { return use_residual_; }

 private:
  bool use_residual_;
  std::shared_ptr<Sequential> block_;
};

struct ResidualBlockOptions {
  std::int64_t inplanes = 0;
  std::int64_t planes = 0;
  std::int64_t stride = 1;
  /// Bottleneck only: inner width = planes * base_width / 64 * groups.
  std::int64_t groups = 1;
  std::int64_t base_width = 64;
  /// Adds "downsample" = Sequential(conv1x1(inplanes, planes * expansion, stride), BN).
  bool downsample = false;
};

/// ResNet's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity), 3x3 convs, stride on
/// conv1. Children: conv1, bn1, relu, conv2, bn2[, downsample]. reference: torchvision resnet.py
class BasicBlock : public Module {
 public:
  static constexpr std::int64_t kExpansion = 1;
  explicit BasicBlock(ResidualBlockOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  const std::shared_ptr<BatchNorm2d>& last_bn() const { return bn2_; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> downsample_;
};

/// ResNet's Bottleneck (V1.5: stride on the 3x3 conv2): 1x1 -> 3x3 -> 1x1 (x4 channels) + identity.
/// Children: conv1, bn1, conv2, bn2, conv3, bn3, relu[, downsample].
class Bottleneck : public Module {
 public:
  static constexpr std::int64_t kExpansion = 4;
  explicit Bottleneck(ResidualBlockOptions options, core::Generator& gen = core::default_generator());
  Variable forward(const Variable& x) override;
  const std::shared_ptr<BatchNorm2d>& last_bn() const { return bn3_; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> downsample_;
};

}  // namespace selfsup::nn
