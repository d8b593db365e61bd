// Model structure tests: the state_dict layout (keys, shapes, dtypes, order) of every full-size
// model equals torchvision's (tests/golden/model_keys.safetensors from tools/make_golden_models.py)
// and loads with strict matching; parameter counts; the fc = Identity feature mode; the CIFAR
// stem, width multiplier and input-channel options; stochastic depth schedule; FLOPs in summary();
// MLP heads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ops.h"
#include "nn/layers.h"
#include "tests/support/golden.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace ag = selfsup::autograd;
namespace test = selfsup::test;
using ag::Variable;
using core::DType;
using core::Shape;
using core::Tensor;
using json = nlohmann::json;

struct Entry {
  std::string key;
  Shape shape;
  DType dtype;
};

struct Layout {
  std::vector<Entry> entries;
  std::int64_t parameters = 0;
};

Layout torchvision_layout(const std::string& model) {
  static const test::Golden g = test::load_golden("model_keys");
  const json j = json::parse(g.metadata("model." + model));
  Layout layout;
  layout.parameters = j.at("parameters");
  for (const auto& e : j.at("state")) {
    const std::string dtype = e.at(2);
    layout.entries.push_back({e.at(0), e.at(1).get<Shape>(), dtype == "I64" ? DType::i64 : DType::f32});
  }
  return layout;
}

std::shared_ptr<nn::Module> build_default(const std::string& model) {
  if (model == "resnet18") return nn::resnet18();
  if (model == "resnet34") return nn::resnet34();
  if (model == "resnet50") return nn::resnet50();
  if (model == "resnet101") return nn::resnet101();
  if (model == "efficientnet_b0") return nn::efficientnet_b0();
  if (model == "mobilenet_v3_large") return nn::mobilenet_v3_large();
  FAIL("unknown model " << model);
  return nullptr;
}

/// The model's state_dict equals torchvision's entry by entry, and torchvision's layout (zeros)
/// loads with strict matching.
void check_layout(const std::string& model) {
  const Layout expected = torchvision_layout(model);
  auto m = build_default(model);
  const nn::StateDict state = m->state_dict();
  CHECK(state.size() == expected.entries.size());
  CHECK(m->parameter_count() == expected.parameters);
  const std::size_t n = std::min(state.size(), expected.entries.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto& [key, t] = state[i];
    const Entry& e = expected.entries[i];
    CHECK_MESSAGE(key == e.key, model << " entry " << i << ": ours " << key << ", torchvision " << e.key);
    CHECK_MESSAGE(t.shape() == e.shape, model << " " << key << ": ours " << core::to_string(t.shape())
                                              << ", torchvision " << core::to_string(e.shape));
    CHECK_MESSAGE(t.dtype() == e.dtype, model << " " << key << ": dtype " << core::name(t.dtype()));
  }
  nn::StateDict zeros;
  for (const Entry& e : expected.entries) zeros.emplace_back(e.key, Tensor::zeros(e.shape, e.dtype));
  CHECK_NOTHROW(m->load_state_dict(zeros, true));
}

std::vector<std::string> keys_of(const nn::Module& m) {
  std::vector<std::string> keys;
  for (const auto& [k, t] : m.state_dict()) keys.push_back(k);
  return keys;
}

}  // namespace

TEST_CASE("models: resnet18 state dict matches torchvision's keys and shapes and order") { check_layout("resnet18"); }
TEST_CASE("models: resnet34 state dict matches torchvision's keys and shapes and order") { check_layout("resnet34"); }
TEST_CASE("models: resnet50 state dict matches torchvision's keys and shapes and order") { check_layout("resnet50"); }
TEST_CASE("models: resnet101 state dict matches torchvision's keys and shapes and order") { check_layout("resnet101"); }
TEST_CASE("models: efficientnet_b0 state dict matches torchvision's keys and shapes and order") {
  check_layout("efficientnet_b0");
}
TEST_CASE("models: mobilenet_v3_large state dict matches torchvision's keys and shapes and order") {
  check_layout("mobilenet_v3_large");
}

TEST_CASE("models: entry and parameter counts match the published torchvision numbers") {
  // shared spec ecosystem.md section 2.
  auto r18 = nn::resnet18();
  CHECK(r18->state_dict().size() == 122);
  CHECK(r18->parameter_count() == 11689512);
  auto r50 = nn::resnet50();
  CHECK(r50->state_dict().size() == 320);
  CHECK(r50->parameter_count() == 25557032);
  auto eff = nn::efficientnet_b0();
  CHECK(eff->state_dict().size() == 360);
  CHECK(eff->parameter_count() == 5288548);
}

TEST_CASE("resnet: num_classes 0 replaces fc by Identity and returns pooled features") {
  auto full = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .cifar_stem = true});
  auto backbone = nn::resnet18(nn::ResNetOptions{.num_classes = 0, .cifar_stem = true});
  CHECK(backbone->features_dim() == 512);
  std::vector<std::string> expected;
  for (const auto& k : keys_of(*full))
    if (!k.starts_with("fc.")) expected.push_back(k);
  CHECK(keys_of(*backbone) == expected);
  core::Generator gen(1);
  backbone->eval();
  CHECK((*backbone)(Variable(Tensor::randn({2, 3, 32, 32}, gen))).shape() == Shape{2, 512});
  auto r50 = nn::resnet50(nn::ResNetOptions{.num_classes = 0});
  CHECK(r50->features_dim() == 2048);
}

TEST_CASE("resnet: CIFAR stem and width multiplier and one input channel change only the expected shapes") {
  core::Generator gen(2);
  auto m = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .cifar_stem = true, .width_multiplier = 0.25, .in_channels = 1}, gen);
  const auto state = m->state_dict();
  CHECK(state.size() == 122);
  const auto shape_of = [&](const std::string& key) {
    for (const auto& [k, t] : state)
      if (k == key) return t.shape();
    FAIL("no key " << key);
    return Shape{};
  };
  CHECK(shape_of("conv1.weight") == Shape{16, 1, 3, 3});
  CHECK(shape_of("layer2.0.downsample.0.weight") == Shape{32, 16, 1, 1});
  CHECK(shape_of("layer4.1.conv2.weight") == Shape{128, 128, 3, 3});
  CHECK(shape_of("fc.weight") == Shape{10, 128});
  CHECK(m->features_dim() == 128);
  CHECK((*m)(Variable(Tensor::randn({2, 1, 28, 28}, gen))).shape() == Shape{2, 10});
  // The ImageNet stem: 7x7 stride 2 conv and a 3x3 stride 2 max pool (224 -> 56 before layer1).
  auto imagenet = nn::resnet18(nn::ResNetOptions{.num_classes = 5, .width_multiplier = 0.25});
  const auto rows = imagenet->summary({1, 3, 64, 64});
  bool saw_maxpool = false;
  for (const auto& r : rows)
    if (r.name == "maxpool") {
      saw_maxpool = true;
      CHECK(r.type == "MaxPool2d");
      CHECK(r.output_shape == Shape{1, 16, 16, 16});
    }
  CHECK(saw_maxpool);
}

TEST_CASE("resnet: summary reports torchvision's FLOPs for resnet18") {
  // 2 x multiply-adds of every conv and the fc, as counted with forward hooks on torchvision's
  // resnet18 at 1x3x224x224 (1.814 GMACs) and its CIFAR variant at 1x3x32x32.
  const auto total = [](nn::Module& m, const Shape& input) {
    std::int64_t flops = 0;
    for (const auto& r : m.summary(input)) flops += r.flops;
    return flops;
  };
  auto r18 = nn::resnet18();
  CHECK(total(*r18, {1, 3, 224, 224}) == 3628146688);
  auto cifar = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .cifar_stem = true});
  CHECK(total(*cifar, {1, 3, 32, 32}) == 1110845440);
  const std::string text = cifar->summary_string({1, 3, 32, 32});
  CHECK(text.find("layer4.1.conv2") != std::string::npos);
  CHECK(text.find("total FLOPs: 1110845440") != std::string::npos);
}

TEST_CASE("efficientnet: features and FLOPs and the linear stochastic depth schedule") {
  auto m = nn::efficientnet_b0();
  std::int64_t flops = 0;
  for (const auto& r : m->summary({1, 3, 224, 224})) flops += r.flops;
  CHECK(flops == 771629504);  // torchvision efficientnet_b0, forward hooks (0.386 GMACs)
  std::vector<double> probs;
  for (auto& [name, mod] : m->named_modules())
    if (auto* dp = dynamic_cast<nn::DropPath*>(mod.get())) probs.push_back(dp->p());
  REQUIRE(probs.size() == 16);
  for (std::size_t i = 0; i < probs.size(); ++i) CHECK(probs[i] == doctest::Approx(0.2 * static_cast<double>(i) / 16.0));
  auto backbone = nn::efficientnet_b0(nn::EfficientNetOptions{.num_classes = 0, .in_channels = 1});
  CHECK(backbone->features_dim() == 1280);
  for (const auto& k : keys_of(*backbone)) CHECK_FALSE(k.starts_with("classifier"));
  core::Generator gen(3);
  backbone->eval();
  CHECK((*backbone)(Variable(Tensor::randn({2, 1, 32, 32}, gen))).shape() == Shape{2, 1280});
}

TEST_CASE("mobilenet_v3: features and FLOPs and BN eps 1e-3 momentum 0.01") {
  auto m = nn::mobilenet_v3_large();
  std::int64_t flops = 0;
  for (const auto& r : m->summary({1, 3, 224, 224})) flops += r.flops;
  CHECK(flops == 433179520);  // torchvision mobilenet_v3_large, forward hooks
  int bns = 0;
  for (auto& [name, mod] : m->named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(mod.get())) {
      ++bns;
      CHECK(bn->options().eps == 1e-3);
      CHECK(*bn->options().momentum == 0.01);
    }
  CHECK(bns == 46);
  auto backbone = nn::mobilenet_v3_large(nn::MobileNetV3Options{.num_classes = 0});
  CHECK(backbone->features_dim() == 960);
  core::Generator gen(4);
  backbone->eval();
  CHECK((*backbone)(Variable(Tensor::randn({2, 3, 32, 32}, gen))).shape() == Shape{2, 960});
}

TEST_CASE("mlp_head: Linear-BN-ReLU stages with nn.Sequential numbering and an optional last BN") {
  core::Generator gen(5);
  auto head = std::make_shared<nn::MLPHead>(
      nn::MLPHeadOptions{.in_features = 32, .hidden_features = {64, 48}, .out_features = 16, .last_batch_norm = true,
                         .last_batch_norm_affine = false},
      gen);
  CHECK(keys_of(*head) == std::vector<std::string>{
                              "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                              "1.num_batches_tracked", "3.weight", "3.bias", "4.weight", "4.bias", "4.running_mean",
                              "4.running_var", "4.num_batches_tracked", "6.weight", "6.bias", "7.running_mean",
                              "7.running_var", "7.num_batches_tracked"});
  CHECK((*head)(Variable(Tensor::randn({8, 32}, gen))).shape() == Shape{8, 16});
  nn::MLPHead plain(nn::MLPHeadOptions{.in_features = 8, .hidden_features = {4}, .out_features = 2, .batch_norm = false,
                                       .hidden_bias = false});
  CHECK(keys_of(plain) == std::vector<std::string>{"0.weight", "2.weight", "2.bias"});
  nn::MLPHead linear(nn::MLPHeadOptions{.in_features = 8, .out_features = 2});
  CHECK(keys_of(linear) == std::vector<std::string>{"0.weight", "0.bias"});
}

TEST_CASE("efficientnet: default dropout and stochastic depth are random in training and off in eval") {
  core::Generator gen(6);
  auto m = nn::efficientnet_b0(nn::EfficientNetOptions{.num_classes = 4}, gen);
  const Variable x(Tensor::randn({4, 3, 32, 32}, gen));
  const Tensor a = (*m)(x).data();
  const Tensor b = (*m)(x).data();
  CHECK(core::max_abs_diff(a, b) > 0.0);  // new dropout / drop-path masks each call
  m->eval();
  const Tensor c = (*m)(x).data();
  CHECK(core::max_abs_diff(c, (*m)(x).data()) == 0.0);
  for (double v : c.to_vector<double>()) CHECK(std::isfinite(v));
}
