#include "nn/models/mobilenet_v3.h"

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

// Table 1 of the MobileNetV3 paper, as torchvision's _mobilenet_v3_conf("mobilenet_v3_large"):
// input, kernel, expanded, out, SE, hardswish, stride, dilation.
struct BlockConfig {
  std::int64_t input, kernel, expanded, out;
  bool use_se, use_hs;
  std::int64_t stride, dilation;
};
constexpr BlockConfig kLargeBlocks[] = {
    {16, 3, 16, 16, false, false, 1, 1},    {16, 3, 64, 24, false, false, 2, 1},
    {24, 3, 72, 24, false, false, 1, 1},    {24, 5, 72, 40, true, false, 2, 1},
    {40, 5, 120, 40, true, false, 1, 1},    {40, 5, 120, 40, true, false, 1, 1},
    {40, 3, 240, 80, false, true, 2, 1},    {80, 3, 200, 80, false, true, 1, 1},
    {80, 3, 184, 80, false, true, 1, 1},    {80, 3, 184, 80, false, true, 1, 1},
    {80, 3, 480, 112, true, true, 1, 1},    {112, 3, 672, 112, true, true, 1, 1},
    {112, 5, 672, 160, true, true, 2, 1},   {160, 5, 960, 160, true, true, 1, 1},
    {160, 5, 960, 160, true, true, 1, 1},
};
constexpr std::int64_t kLastChannel = 1280;
constexpr NormOptions kNorm{.eps = 1e-3, .momentum = 0.01};

}  // namespace

MobileNetV3::MobileNetV3(MobileNetV3Options options, core::Generator& gen) : Module("MobileNetV3"), options_(options) {
  core::check(options_.num_classes >= 0 && options_.in_channels > 0,
              "MobileNetV3: num_classes must be >= 0 and in_channels > 0 (num_classes " +
                  std::to_string(options_.num_classes) + ", in_channels " + std::to_string(options_.in_channels) +
                  ")");
  auto features = std::make_shared<Sequential>();
  features->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = options_.in_channels,
                                                                                       .out_channels = kLargeBlocks[0].input,
                                                                                       .kernel_size = 3,
                                                                                       .stride = 2,
                                                                                       .activation = Activation::hardswish,
                                                                                       .norm_options = kNorm},
                                                             gen));
  for (const auto& b : kLargeBlocks) {
    features->push_back(std::make_shared<InvertedResidual>(InvertedResidualOptions{.input_channels = b.input,
                                                                                   .kernel = b.kernel,
                                                                                   .expanded_channels = b.expanded,
                                                                                   .out_channels = b.out,
                                                                                   .use_se = b.use_se,
                                                                                   .use_hs = b.use_hs,
                                                                                   .stride = b.stride,
                                                                                   .dilation = b.dilation,
                                                                                   .norm_options = kNorm},
                                                           gen));
  }
  const std::int64_t last_in = kLargeBlocks[std::size(kLargeBlocks) - 1].out;
  features_dim_ = 6 * last_in;
  features->push_back(std::make_shared<Conv2dNormActivation>(ConvNormActivationOptions{.in_channels = last_in,
                                                                                       .out_channels = features_dim_,
                                                                                       .kernel_size = 1,
                                                                                       .activation = Activation::hardswish,
                                                                                       .norm_options = kNorm},
                                                             gen));
  features_ = register_module("features", features);
  avgpool_ = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>());
  if (options_.num_classes > 0) {
    auto classifier = std::make_shared<Sequential>();
    classifier->push_back(
        std::make_shared<Linear>(LinearOptions{.in_features = features_dim_, .out_features = kLastChannel}, gen));
    classifier->push_back(std::make_shared<Hardswish>());
    classifier->push_back(std::make_shared<Dropout>(DropoutOptions{.p = options_.dropout}, gen));
    classifier->push_back(
        std::make_shared<Linear>(LinearOptions{.in_features = kLastChannel, .out_features = options_.num_classes}, gen));
    classifier_ = register_module("classifier", classifier);
  } else {
    classifier_ = register_module("classifier", std::make_shared<Identity>());
  }

  init_mobile_model(*this, gen, [&](Linear& linear) {
    init::normal_(param_data(linear.weight()), 0.0, 0.01, gen);
    init::zeros_(param_data(linear.bias()));
  });
}

Variable MobileNetV3::forward_features(const Variable& x) {
  return autograd::flatten((*avgpool_)((*features_)(x)), 1);
}

Variable MobileNetV3::forward(const Variable& x) { return (*classifier_)(forward_features(x)); }

std::shared_ptr<MobileNetV3> mobilenet_v3_large(MobileNetV3Options options, core::Generator& gen) {
  return std::make_shared<MobileNetV3>(options, gen);
}

}  // namespace selfsup::nn
