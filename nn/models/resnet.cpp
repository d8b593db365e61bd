#include "nn/models/resnet.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "nn/activation.h"
#include "nn/batch_norm.h"
#include "nn/blocks.h"
#include "nn/conv2d.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/models/model_utils.h"
#include "nn/pooling.h"

namespace selfsup::nn {

ResNet::ResNet(ResNetBlock block, std::vector<std::int64_t> layers, ResNetOptions options, core::Generator& gen)
    : Module("ResNet"), options_(options) {
  core::check(layers.size() == 4, "ResNet: expected 4 stages, got " + std::to_string(layers.size()));
  core::check(options_.num_classes >= 0 && options_.in_channels > 0 && options_.width_multiplier > 0.0,
              "ResNet: num_classes must be >= 0, in_channels > 0 and width_multiplier > 0 (num_classes " +
                  std::to_string(options_.num_classes) + ", in_channels " + std::to_string(options_.in_channels) +
                  ", width_multiplier " + std::to_string(options_.width_multiplier) + ")");
  const auto width = [&](std::int64_t channels) {
    return std::max<std::int64_t>(1, std::llround(static_cast<double>(channels) * options_.width_multiplier));
  };
  const std::int64_t expansion = block == ResNetBlock::basic ? BasicBlock::kExpansion : Bottleneck::kExpansion;
  std::int64_t inplanes = width(64);

  conv1_ = register_module(
      "conv1", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = options_.in_channels,
                                                      .out_channels = inplanes,
                                                      .kernel_size = options_.cifar_stem ? 3 : 7,
                                                      .stride = options_.cifar_stem ? 1 : 2,
                                                      .padding = options_.cifar_stem ? 1 : 3,
                                                      .bias = false},
                                        gen));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(BatchNormOptions{.num_features = inplanes}));
  relu_ = register_module("relu", std::make_shared<ReLU>());
  if (options_.cifar_stem) maxpool_ = register_module("maxpool", std::make_shared<Identity>());
  else maxpool_ = register_module("maxpool", std::make_shared<MaxPool2d>(MaxPool2dOptions{.kernel_size = 3, .stride = 2, .padding = 1}));

  const std::int64_t stage_planes[4] = {64, 128, 256, 512};
  for (std::size_t s = 0; s < 4; ++s) {
    const std::int64_t planes = width(stage_planes[s]);
    const std::int64_t stride = s == 0 ? 1 : 2;
    auto stage = std::make_shared<Sequential>();
    for (std::int64_t b = 0; b < layers[s]; ++b) {
      ResidualBlockOptions o{.inplanes = inplanes, .planes = planes, .stride = b == 0 ? stride : 1};
      o.downsample = b == 0 && (stride != 1 || inplanes != planes * expansion);
      if (block == ResNetBlock::basic) stage->push_back(std::make_shared<BasicBlock>(o, gen));
      else stage->push_back(std::make_shared<Bottleneck>(o, gen));
      inplanes = planes * expansion;
    }
    stages_.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
  features_dim_ = inplanes;
  avgpool_ = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  if (options_.num_classes > 0) {
    fc_ = register_module(
        "fc", std::make_shared<Linear>(LinearOptions{.in_features = inplanes, .out_features = options_.num_classes}, gen));
  } else {
    fc_ = register_module("fc", std::make_shared<Identity>());
  }

  // torchvision's __init__ loop: convs kaiming_normal(fan_out, relu), BN 1/0; fc keeps the
  // Linear default drawn above.
  for_each_submodule(*this, [&](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m)) {
      init::kaiming_normal_(param_data(conv->weight()), gen, 0.0, init::FanMode::fan_out,
                            init::Nonlinearity::relu);
    } else if (auto* norm = dynamic_cast<BatchNorm*>(&m)) {
      norm->reset_parameters();
    }
  });
  if (options_.zero_init_residual) {
    for_each_submodule(*this, [&](Module& m) {
      if (auto* b = dynamic_cast<BasicBlock*>(&m)) init::zeros_(param_data(b->last_bn()->weight()));
      else if (auto* b = dynamic_cast<Bottleneck*>(&m)) init::zeros_(param_data(b->last_bn()->weight()));
    });
  }
}

Variable ResNet::forward_features(const Variable& x) {
  Variable y = (*maxpool_)((*relu_)((*bn1_)((*conv1_)(x))));
  for (const auto& stage : stages_) y = (*stage)(y);
  return autograd::flatten((*avgpool_)(y), 1);
}

Variable ResNet::forward(const Variable& x) { return (*fc_)(forward_features(x)); }

std::shared_ptr<ResNet> resnet18(ResNetOptions options, core::Generator& gen) {
  return std::make_shared<ResNet>(ResNetBlock::basic, std::vector<std::int64_t>{2, 2, 2, 2}, options, gen);
}
std::shared_ptr<ResNet> resnet34(ResNetOptions options, core::Generator& gen) {
  return std::make_shared<ResNet>(ResNetBlock::basic, std::vector<std::int64_t>{3, 4, 6, 3}, options, gen);
}
std::shared_ptr<ResNet> resnet50(ResNetOptions options, core::Generator& gen) {
  return std::make_shared<ResNet>(ResNetBlock::bottleneck, std::vector<std::int64_t>{3, 4, 6, 3}, options, gen);
}
std::shared_ptr<ResNet> resnet101(ResNetOptions options, core::Generator& gen) {
  return std::make_shared<ResNet>(ResNetBlock::bottleneck, std::vector<std::int64_t>{3, 4, 23, 3}, options, gen);
}

}  // namespace selfsup::nn
