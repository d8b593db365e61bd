#include "nn/models/efficientnet.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "nn/activation.h"
#include "nn/blocks.h"
#include "nn/dropout.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/models/model_utils.h"
#include "nn/pooling.h"

namespace selfsup::nn {

namespace {

// Table 1 of the EfficientNet paper, as torchvision's _efficientnet_conf("efficientnet_b0").
struct StageConfig {
  double expand_ratio;
  std::int64_t kernel, stride, input_channels, out_channels, num_layers;
};
constexpr StageConfig kB0Stages[] = {
    {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
    {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
};

}  // namespace

EfficientNet::EfficientNet(EfficientNetOptions options, core::Generator& gen)
    : Module("EfficientNet"), options_(options) {
  core::check(options_.num_classes >= 0 && options_.in_channels > 0,
              "EfficientNet: num_classes must be >= 0 and in_channels > 0 (num_classes " +
                  std::to_string(options_.num_classes) + ", in_channels " + std::to_string(options_.in_channels) +
                  ")");
  auto features = std::make_shared<Sequential>();
  features->push_back(std::make_shared<Conv2dNormActivation>(
      ConvNormActivationOptions{.in_channels = options_.in_channels,
                                .out_channels = kB0Stages[0].input_channels,
                                .kernel_size = 3,
                                .stride = 2,
                                .activation = Activation::silu},
      gen));
  std::int64_t total_blocks = 0;
  for (const auto& s : kB0Stages) total_blocks += s.num_layers;
  std::int64_t block_id = 0;
  for (const auto& s : kB0Stages) {
    auto stage = std::make_shared<Sequential>();
    for (std::int64_t i = 0; i < s.num_layers; ++i) {
      const double sd_prob =
          options_.stochastic_depth_prob * static_cast<double>(block_id) / static_cast<double>(total_blocks);
      stage->push_back(std::make_shared<MBConv>(MBConvOptions{.input_channels = i == 0 ? s.input_channels : s.out_channels,
                                                              .out_channels = s.out_channels,
                                                              .expand_ratio = s.expand_ratio,
                                                              .kernel = s.kernel,
                                                              .stride = i == 0 ? s.stride : 1,
                                                              .stochastic_depth_prob = sd_prob},
                                                gen));
      ++block_id;
    }
    features->push_back(stage);
  }
  const std::int64_t last_in = kB0Stages[6].out_channels;
  features_dim_ = 4 * last_in;
  features->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = last_in,
                                                                                       .out_channels = features_dim_,
                                                                                       .kernel_size = 1,
                                                                                       .activation = Activation::silu},
                                                             gen));
  features_ = register_module("features", features);
  avgpool_ = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  if (options_.num_classes > 0) {
    auto classifier = std::make_shared<Sequential>();
    classifier->push_back(std::make_shared<Dropout>(DropoutOptions{.p = options_.dropout}, gen));
    classifier->push_back(std::make_shared<Linear>(
        LinearOptions{.in_features = features_dim_, .out_features = options_.num_classes}, gen));
    classifier_ = register_module("classifier", classifier);
  } else {
    classifier_ = register_module("classifier", std::make_shared<Identity>());
  }

  init_mobile_model(*this, gen, [&](Linear& linear) {
    const double range = 1.0 / std::sqrt(static_cast<double>(linear.options().out_features));
    init::uniform_(param_data(linear.weight()), -range, range, gen);
    init::zeros_(param_data(linear.bias()));
  });
}

Variable EfficientNet::forward_features(const Variable& x) {
  return autograd::flatten((*avgpool_)((*features_)(x)), 1);
}

Variable EfficientNet::forward(const Variable& x) { return (*classifier_)(forward_features(x)); }

std::shared_ptr<EfficientNet> efficientnet_b0(EfficientNetOptions options, core::Generator& gen) {
  return std::make_shared<EfficientNet>(options, gen);
}

}  // namespace selfsup::nn
