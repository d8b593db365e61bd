// The torchvision blocks at tiny size: child names and state dict keys, residual rules, and f64
// finite-difference checks of the input and every parameter gradient (train mode, and eval for
// the blocks with stochastic depth). Letters: x [N, C, H, W].
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/layers.h"
#include "tests/nn/nn_test_utils.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace ag = selfsup::autograd;
namespace test = selfsup::test;
using ag::Variable;
using core::DType;
using core::Shape;
using core::Tensor;

std::vector<std::string> keys_of(const nn::Module& m) {
  std::vector<std::string> keys;
  for (const auto& [k, t] : m.state_dict())
    if (!k.ends_with("running_mean") && !k.ends_with("running_var") && !k.ends_with("num_batches_tracked"))
      keys.push_back(k);
  return keys;
}

/// Random BN affine parameters (instead of 1 and 0), so the gradchecks exercise them.
void randomise_bn(nn::Module& m, core::Generator& gen) {
  for (auto& [name, p] : m.named_parameters())
    if (p.dim() == 1) p.mutable_data().copy_(Tensor::randn(p.shape(), gen, DType::f64, 1.0, 0.3));
}

}  // namespace

TEST_CASE("make_divisible: follows torchvision's _make_divisible") {
  CHECK(nn::make_divisible(18, 8) == 24);   // rounds to nearest
  CHECK(nn::make_divisible(20, 8) == 24);
  CHECK(nn::make_divisible(3, 8) == 8);     // min_value
  CHECK(nn::make_divisible(240, 8) == 240);
  CHECK(nn::make_divisible(83.2, 8) == 80);
  CHECK(nn::make_divisible(11, 8) == 16);    // 8 would lose more than 10%: one step up
}

TEST_CASE("conv2d_norm_activation: children 0 1 2 and bias only without norm") {
  nn::Conv2dNormActivation a(nn::ConvNormActivationOptions{.in_channels = 4, .out_channels = 8, .kernel_size = 3});
  CHECK(keys_of(a) == std::vector<std::string>{"0.weight", "1.weight", "1.bias"});
  nn::Conv2dNormActivation b(
      nn::ConvNormActivationOptions{.in_channels = 4, .out_channels = 8, .kernel_size = 1, .activation = nn::Activation::none, .norm = false});
  CHECK(keys_of(b) == std::vector<std::string>{"0.weight", "0.bias"});
  core::Generator gen(1);
  CHECK(a(Variable(Tensor::randn({2, 4, 5, 5}, gen))).shape() == Shape{2, 8, 5, 5});
}

TEST_CASE("basic_block: keys and downsample and gradients match finite differences (f64)") {
  core::Generator gen(2);
  auto block = std::make_shared<nn::BasicBlock>(
      nn::ResidualBlockOptions{.inplanes = 3, .planes = 4, .stride = 2, .downsample = true}, gen);
  CHECK(keys_of(*block) == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                                                     "bn2.bias", "downsample.0.weight", "downsample.1.weight",
                                                     "downsample.1.bias"});
  test::widen_parameters(*block);
  randomise_bn(*block, gen);
  const Tensor x = Tensor::randn({2, 3, 5, 5}, gen, DType::f64);
  CHECK((*block)(Variable(x)).shape() == Shape{2, 4, 3, 3});
  test::check_module_gradients(*block, x);
  block->eval();
  test::check_module_gradients(*block, x);
}

TEST_CASE("bottleneck: keys and gradients match finite differences (f64)") {
  core::Generator gen(3);
  auto block = std::make_shared<nn::Bottleneck>(
      nn::ResidualBlockOptions{.inplanes = 4, .planes = 2, .stride = 2, .downsample = true}, gen);
  CHECK(keys_of(*block) == std::vector<std::string>{"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight",
                                                     "bn2.bias", "conv3.weight", "bn3.weight", "bn3.bias",
                                                     "downsample.0.weight", "downsample.1.weight", "downsample.1.bias"});
  test::widen_parameters(*block);
  randomise_bn(*block, gen);
  const Tensor x = Tensor::randn({2, 4, 5, 5}, gen, DType::f64);
  CHECK((*block)(Variable(x)).shape() == Shape{2, 8, 3, 3});
  test::check_module_gradients(*block, x);
  // Identity shortcut (no downsample): in == out, stride 1.
  auto identity = std::make_shared<nn::Bottleneck>(nn::ResidualBlockOptions{.inplanes = 8, .planes = 2}, gen);
  test::widen_parameters(*identity);
  test::check_module_gradients(*identity, Tensor::randn({2, 8, 3, 3}, gen, DType::f64));
}

TEST_CASE("squeeze_excitation: keys and gradients match finite differences (f64)") {
  core::Generator gen(4);
  for (auto [act, scale] : {std::pair{nn::Activation::relu, nn::Activation::sigmoid},
                            std::pair{nn::Activation::silu, nn::Activation::sigmoid},
                            std::pair{nn::Activation::relu, nn::Activation::hardsigmoid}}) {
    auto se = std::make_shared<nn::SqueezeExcitation>(
        nn::SqueezeExcitationOptions{.input_channels = 6, .squeeze_channels = 3, .activation = act, .scale_activation = scale},
        gen);
    CHECK(keys_of(*se) == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});
    test::widen_parameters(*se);
    const Tensor x = Tensor::randn({2, 6, 3, 4}, gen, DType::f64, 0.0, 2.0);
    const Variable y = (*se)(Variable(x));
    CHECK(y.shape() == Shape{2, 6, 3, 4});
    test::check_module_gradients(*se, x);
  }
}

TEST_CASE("mbconv: torchvision layout and residual rule and gradients match finite differences (f64)") {
  core::Generator gen(5);
  // expand 1: no expand conv; block.0 depthwise, block.1 SE, block.2 project.
  nn::MBConv first(nn::MBConvOptions{.input_channels = 8, .out_channels = 4, .expand_ratio = 1}, gen);
  CHECK(keys_of(first) == std::vector<std::string>{"block.0.0.weight", "block.0.1.weight", "block.0.1.bias",
                                                    "block.1.fc1.weight", "block.1.fc1.bias", "block.1.fc2.weight",
                                                    "block.1.fc2.bias", "block.2.0.weight", "block.2.1.weight",
                                                    "block.2.1.bias"});
  CHECK_FALSE(first.use_residual());
  // expand 2 with residual; SE squeeze = max(1, input_channels / 4) = 1.
  auto block = std::make_shared<nn::MBConv>(
      nn::MBConvOptions{.input_channels = 4, .out_channels = 4, .expand_ratio = 2, .kernel = 3, .stochastic_depth_prob = 0.0},
      gen);
  CHECK(block->use_residual());
  const auto state = block->state_dict();
  CHECK(state[0].first == "block.0.0.weight");
  CHECK(state[0].second.shape() == Shape{8, 4, 1, 1});
  CHECK(state[6].first == "block.1.0.weight");
  CHECK(state[6].second.shape() == Shape{8, 1, 3, 3});
  CHECK(state[12].first == "block.2.fc1.weight");
  CHECK(state[12].second.shape() == Shape{1, 8, 1, 1});
  test::widen_parameters(*block);
  randomise_bn(*block, gen);
  const Tensor x = Tensor::randn({2, 4, 4, 4}, gen, DType::f64);
  test::check_module_gradients(*block, x);
  block->eval();
  test::check_module_gradients(*block, x);
}

TEST_CASE("mbconv: stochastic depth drops the residual branch per sample in training only") {
  core::Generator gen(6);
  nn::MBConv block(nn::MBConvOptions{.input_channels = 4, .out_channels = 4, .expand_ratio = 2, .stochastic_depth_prob = 1.0},
                   gen);
  const Variable x(Tensor::randn({3, 4, 4, 4}, gen));
  // p = 1: every branch dropped, the block is the identity shortcut.
  CHECK(core::max_abs_diff(block(x).data(), x.data()) == 0.0);
  block.eval();
  CHECK(core::max_abs_diff(block(x).data(), x.data()) > 0.0);
}

TEST_CASE("inverted_residual: torchvision layout and gradients match finite differences (f64)") {
  core::Generator gen(7);
  auto block = std::make_shared<nn::InvertedResidual>(
      nn::InvertedResidualOptions{.input_channels = 4, .kernel = 3, .expanded_channels = 8, .out_channels = 4, .use_se = true,
                                  .use_hs = true},
      gen);
  CHECK(block->use_residual());
  CHECK(keys_of(*block) == std::vector<std::string>{"block.0.0.weight", "block.0.1.weight", "block.0.1.bias",
                                                     "block.1.0.weight", "block.1.1.weight", "block.1.1.bias",
                                                     "block.2.fc1.weight", "block.2.fc1.bias", "block.2.fc2.weight",
                                                     "block.2.fc2.bias", "block.3.0.weight", "block.3.1.weight",
                                                     "block.3.1.bias"});
  // SE squeeze = make_divisible(8 / 4, 8) = 8.
  CHECK(block->state_dict()[12].second.shape() == Shape{8, 8, 1, 1});
  test::widen_parameters(*block);
  randomise_bn(*block, gen);
  const Tensor x = Tensor::randn({2, 4, 4, 4}, gen, DType::f64);
  test::check_module_gradients(*block, x);
  block->eval();
  test::check_module_gradients(*block, x);
  // No expansion, ReLU, stride 2: no residual.
  nn::InvertedResidual plain(nn::InvertedResidualOptions{.input_channels = 16, .kernel = 3, .expanded_channels = 16,
                                                         .out_channels = 24, .stride = 2});
  CHECK_FALSE(plain.use_residual());
  CHECK(keys_of(plain).front() == "block.0.0.weight");
  CHECK(plain.state_dict()[0].second.shape() == Shape{16, 1, 3, 3});
}

TEST_CASE("mlp_head: gradients match finite differences (f64)") {
  core::Generator gen(8);
  auto head = std::make_shared<nn::MLPHead>(
      nn::MLPHeadOptions{.in_features = 5, .hidden_features = {6}, .out_features = 3, .last_batch_norm = true}, gen);
  test::widen_parameters(*head);
  randomise_bn(*head, gen);
  test::check_module_gradients(*head, Tensor::randn({4, 5}, gen, DType::f64));
}
