// Unit tests of the nn layers: parameter/buffer names and shapes (torch's), forward semantics,
// train/eval behaviour, BatchNorm's running statistics and num_batches_tracked, Dropout and
// DropPath statistics, FLOPs in summary(), and load_state_dict's error reporting.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "nn/layers.h"
#include "tests/nn/nn_test_utils.h"
#include "tests/support/allclose.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace ag = selfsup::autograd;
namespace test = selfsup::test;
using ag::Variable;
using core::DType;
using core::Shape;
using core::Tensor;

std::vector<std::string> state_names(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, t] : m.state_dict()) names.push_back(name);
  return names;
}

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace

// ---- Linear ----

TEST_CASE("linear: parameters have torch names and shapes and forward is x W^T + b") {
  core::Generator gen(1);
  auto fc = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 20, .out_features = 7}, gen);
  CHECK(state_names(*fc) == std::vector<std::string>{"weight", "bias"});
  CHECK(fc->weight().shape() == Shape{7, 20});
  CHECK(fc->bias().shape() == Shape{7});
  const Tensor x = Tensor::randn({4, 20}, gen);
  const Variable y = (*fc)(Variable(x));
  CHECK(y.shape() == Shape{4, 7});
  const Tensor expected = core::matmul(x, fc->weight().data(), false, true) + fc->bias().data();
  test::check_allclose(y.data(), expected, 1e-6, 1e-6, "linear output");
  // Leading batch dims are kept.
  CHECK((*fc)(Variable(Tensor::randn({2, 3, 20}, gen))).shape() == Shape{2, 3, 7});
  CHECK_THROWS_AS((*fc)(Variable(Tensor::randn({4, 21}, gen))), core::ShapeError);
}

TEST_CASE("linear: bias false registers only the weight") {
  nn::Linear fc(nn::LinearOptions{.in_features = 3, .out_features = 2, .bias = false});
  CHECK(state_names(fc) == std::vector<std::string>{"weight"});
  CHECK_FALSE(fc.bias().defined());
}

TEST_CASE("linear: default init is U(-1/sqrt(in) to 1/sqrt(in)) for weight and bias") {
  core::Generator gen(3);
  nn::Linear fc(nn::LinearOptions{.in_features = 64, .out_features = 512}, gen);
  const double bound = 1.0 / 8.0;
  CHECK(max_abs(fc.weight().data()) <= bound);
  CHECK(max_abs(fc.weight().data()) > 0.95 * bound);
  CHECK(max_abs(fc.bias().data()) <= bound);
  // Variance of U(-b, b) is b^2 / 3.
  const double var = core::mean(core::square(fc.weight().data())).item<double>();
  CHECK(var == doctest::Approx(bound * bound / 3.0).epsilon(0.03));
}

TEST_CASE("linear: summary reports 2 x rows x in x out FLOPs") {
  auto fc = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 20, .out_features = 7});
  const auto rows = fc->summary({4, 20});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].flops == 2 * 4 * 20 * 7);
  CHECK(rows[0].parameters == 20 * 7 + 7);
  CHECK(rows[0].output_shape == Shape{4, 7});
}

// ---- Conv2d ----

TEST_CASE("conv2d: weight shape and stride and padding and groups follow torch") {
  core::Generator gen(2);
  nn::Conv2d conv(nn::Conv2dOptions{.in_channels = 3, .out_channels = 8, .kernel_size = 3, .stride = 2, .padding = 1}, gen);
  CHECK(state_names(conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv.weight().shape() == Shape{8, 3, 3, 3});
  CHECK(conv(Variable(Tensor::randn({2, 3, 9, 9}, gen))).shape() == Shape{2, 8, 5, 5});

  nn::Conv2d dw(nn::Conv2dOptions{.in_channels = 8, .out_channels = 8, .kernel_size = 5, .padding = 2, .groups = 8, .bias = false},
                gen);
  CHECK(state_names(dw) == std::vector<std::string>{"weight"});
  CHECK(dw.weight().shape() == Shape{8, 1, 5, 5});
  CHECK(dw(Variable(Tensor::randn({1, 8, 6, 7}, gen))).shape() == Shape{1, 8, 6, 7});
  CHECK_THROWS_AS(nn::Conv2d(nn::Conv2dOptions{.in_channels = 6, .out_channels = 4, .groups = 4}), core::ValueError);
}

TEST_CASE("conv2d: default init bound is 1/sqrt(fan_in)") {
  core::Generator gen(4);
  nn::Conv2d conv(nn::Conv2dOptions{.in_channels = 16, .out_channels = 64, .kernel_size = 3}, gen);
  const double bound = 1.0 / std::sqrt(16.0 * 9.0);
  CHECK(max_abs(conv.weight().data()) <= bound);
  CHECK(max_abs(conv.weight().data()) > 0.95 * bound);
  CHECK(max_abs(conv.bias().data()) <= bound);
}

TEST_CASE("conv2d: summary reports 2 x N K P Q x C/groups x R S FLOPs") {
  auto seq = std::make_shared<nn::Sequential>();
  seq->push_back(std::make_shared<nn::Conv2d>(
      nn::Conv2dOptions{.in_channels = 4, .out_channels = 6, .kernel_size = 3, .stride = 2, .padding = 1, .groups = 2}));
  const auto rows = seq->summary({2, 4, 8, 8});
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].type == "Conv2d");
  CHECK(rows[1].output_shape == Shape{2, 6, 4, 4});
  CHECK(rows[1].flops == 2 * (2 * 6 * 4 * 4) * (2 * 3 * 3));
}

// ---- BatchNorm ----

TEST_CASE("batch_norm2d: registers torch's five state entries with num_batches_tracked as an i64 scalar") {
  nn::BatchNorm2d bn(nn::BatchNormOptions{.num_features = 3});
  CHECK(state_names(bn) ==
        std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
  const auto state = bn.state_dict();
  CHECK(state[4].second.dtype() == DType::i64);
  CHECK(state[4].second.shape() == Shape{});
  CHECK(state[4].second.item<std::int64_t>() == 0);
  CHECK(bn.weight().data().to_vector<double>() == std::vector<double>{1, 1, 1});
  CHECK(bn.bias().data().to_vector<double>() == std::vector<double>{0, 0, 0});
  CHECK(bn.running_var().to_vector<double>() == std::vector<double>{1, 1, 1});
  CHECK(bn.options().eps == 1e-5);
  CHECK(*bn.options().momentum == 0.1);
}

TEST_CASE("batch_norm2d: training normalises with batch statistics and updates running stats and counts batches") {
  core::Generator gen(5);
  nn::BatchNorm2d bn(nn::BatchNormOptions{.num_features = 3});
  test::widen_parameters(bn);
  const Tensor x = Tensor::randn({4, 3, 5, 5}, gen, DType::f64, 2.0, 3.0);
  const Variable y = bn(Variable(x));
  const Tensor mean = core::mean(x, {0, 2, 3});
  const Tensor var_biased = core::mean(core::square(x - core::mean(x, {0, 2, 3}, true)), {0, 2, 3});
  const Tensor var_unbiased = var_biased * (100.0 / 99.0);
  test::check_allclose(core::mean(y.data(), {0, 2, 3}), Tensor::zeros({3}, DType::f64), 0, 1e-6, "batch mean");
  test::check_allclose(core::mean(core::square(y.data()), {0, 2, 3}), (var_biased / (var_biased + 1e-5)), 1e-6, 1e-9,
                       "batch variance");
  test::check_allclose(bn.running_mean(), mean * 0.1, 1e-5, 1e-6, "running_mean");
  test::check_allclose(bn.running_var(), var_unbiased * 0.1 + 0.9, 1e-5, 1e-6, "running_var");
  CHECK(bn.num_batches_tracked().item<std::int64_t>() == 1);
  bn(Variable(x));
  CHECK(bn.num_batches_tracked().item<std::int64_t>() == 2);
  test::check_allclose(bn.running_mean(), mean * 0.19, 1e-5, 1e-6, "running_mean after two batches");
}

TEST_CASE("batch_norm2d: eval uses running statistics and leaves the buffers alone") {
  core::Generator gen(6);
  nn::BatchNorm2d bn(nn::BatchNormOptions{.num_features = 2, .eps = 1e-3});
  bn.running_mean().copy_(Tensor::from_vector(std::vector<float>{1.0f, -2.0f}));
  bn.running_var().copy_(Tensor::from_vector(std::vector<float>{4.0f, 0.25f}));
  bn.eval();
  const Tensor x = Tensor::randn({2, 2, 3, 3}, gen);
  const Variable y = bn(Variable(x));
  const Tensor m = Tensor::from_vector(std::vector<float>{1.0f, -2.0f}, {1, 2, 1, 1});
  const Tensor v = Tensor::from_vector(std::vector<float>{4.0f, 0.25f}, {1, 2, 1, 1});
  test::check_allclose(y.data(), (x - m) / core::sqrt(v + 1e-3), 1e-5, 1e-6, "eval output");
  CHECK(bn.num_batches_tracked().item<std::int64_t>() == 0);
  CHECK(bn.running_mean().to_vector<float>() == std::vector<float>{1.0f, -2.0f});
}

TEST_CASE("batch_norm: unset momentum gives the cumulative moving average") {
  core::Generator gen(7);
  nn::BatchNorm1d bn(nn::BatchNormOptions{.num_features = 3, .momentum = std::nullopt});
  const Tensor a = Tensor::randn({8, 3}, gen, DType::f32, 1.0);
  const Tensor b = Tensor::randn({8, 3}, gen, DType::f32, -1.0);
  bn(Variable(a));
  test::check_allclose(bn.running_mean(), core::mean(a, {0}), 1e-5, 1e-6, "after one batch");
  bn(Variable(b));
  test::check_allclose(bn.running_mean(), (core::mean(a, {0}) + core::mean(b, {0})) * 0.5, 1e-5, 1e-6,
                       "after two batches");
  CHECK(bn.num_batches_tracked().item<std::int64_t>() == 2);
}

TEST_CASE("batch_norm: without running stats there are no buffers and eval uses batch statistics") {
  core::Generator gen(8);
  nn::BatchNorm2d bn(nn::BatchNormOptions{.num_features = 2, .track_running_stats = false});
  CHECK(state_names(bn) == std::vector<std::string>{"weight", "bias"});
  test::widen_parameters(bn);
  bn.eval();
  const Tensor x = Tensor::randn({3, 2, 2, 2}, gen, DType::f64, 5.0);
  const Variable y = bn(Variable(x));
  test::check_allclose(core::mean(y.data(), {0, 2, 3}), Tensor::zeros({2}, DType::f64), 0, 1e-9, "batch mean in eval");
}

TEST_CASE("batch_norm: affine false has no parameters") {
  nn::BatchNorm1d bn(nn::BatchNormOptions{.num_features = 4, .affine = false});
  CHECK(state_names(bn) == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn.parameters().empty());
}

TEST_CASE("batch_norm1d: accepts N x C and N x C x L and rejects other shapes") {
  core::Generator gen(9);
  nn::BatchNorm1d bn(nn::BatchNormOptions{.num_features = 3});
  CHECK(bn(Variable(Tensor::randn({4, 3}, gen))).shape() == Shape{4, 3});
  CHECK(bn(Variable(Tensor::randn({4, 3, 5}, gen))).shape() == Shape{4, 3, 5});
  CHECK_THROWS_AS(bn(Variable(Tensor::randn({4, 3, 5, 5}, gen))), core::ShapeError);
  CHECK_THROWS_AS(bn(Variable(Tensor::randn({4, 2}, gen))), core::ShapeError);
  nn::BatchNorm2d bn2(nn::BatchNormOptions{.num_features = 3});
  CHECK_THROWS_AS(bn2(Variable(Tensor::randn({4, 3}, gen))), core::ShapeError);
}

// ---- activations, pooling, flatten ----

TEST_CASE("activations: modules compute their functional ops and Identity returns its input") {
  core::Generator gen(10);
  const Variable x(Tensor::randn({3, 4}, gen, DType::f32, 0.0, 3.0));
  CHECK(core::max_abs_diff(nn::ReLU()(x).data(), ag::relu(x).data()) == 0.0);
  CHECK(core::max_abs_diff(nn::SiLU()(x).data(), ag::silu(x).data()) == 0.0);
  CHECK(core::max_abs_diff(nn::Hardswish()(x).data(), ag::hardswish(x).data()) == 0.0);
  CHECK(core::max_abs_diff(nn::Hardsigmoid()(x).data(), ag::hardsigmoid(x).data()) == 0.0);
  CHECK(core::max_abs_diff(nn::Sigmoid()(x).data(), ag::sigmoid(x).data()) == 0.0);
  CHECK(core::max_abs_diff(nn::Tanh()(x).data(), ag::tanh(x).data()) == 0.0);
  CHECK(nn::Identity()(x).impl() == x.impl());
  CHECK(nn::make_activation(nn::Activation::none) == nullptr);
  CHECK(nn::make_activation(nn::Activation::hardsigmoid)->type_name() == "Hardsigmoid");
}

TEST_CASE("pooling: max and avg and adaptive pools and flatten give torch's output shapes") {
  core::Generator gen(11);
  const Variable x(Tensor::randn({2, 3, 9, 9}, gen));
  CHECK(nn::MaxPool2d(nn::MaxPool2dOptions{.kernel_size = 3, .stride = 2, .padding = 1})(x).shape() == Shape{2, 3, 5, 5});
  CHECK(nn::MaxPool2d(nn::MaxPool2dOptions{.kernel_size = 2})(x).shape() == Shape{2, 3, 4, 4});
  CHECK(nn::AvgPool2d(nn::AvgPool2dOptions{.kernel_size = 2, .ceil_mode = true})(x).shape() == Shape{2, 3, 5, 5});
  const Variable pooled = nn::AdaptiveAvgPool2d()(x);
  CHECK(pooled.shape() == Shape{2, 3, 1, 1});
  test::check_allclose(pooled.data(), core::mean(x.data(), {2, 3}, true), 1e-5, 1e-6, "global average");
  CHECK(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions{.output_h = 2, .output_w = 3})(x).shape() ==
        Shape{2, 3, 2, 3});
  CHECK(nn::Flatten()(x).shape() == Shape{2, 243});
  CHECK(nn::Flatten(nn::FlattenOptions{.start_dim = 2})(x).shape() == Shape{2, 3, 81});
}

// ---- Dropout and DropPath ----

TEST_CASE("dropout: training zeroes a fraction p and scales survivors by 1/(1-p) and eval is identity") {
  nn::Dropout drop(nn::DropoutOptions{.p = 0.3, .seed = 42});
  const std::int64_t n = 200000;
  const Variable x(Tensor::ones({n}));
  const auto y = drop(x).data().to_vector<double>();
  std::int64_t zeros = 0;
  for (double v : y) {
    if (v == 0.0) ++zeros;
    else CHECK_MESSAGE(std::abs(v - 1.0 / 0.7) < 1e-6, "survivor " << v);
  }
  // Binomial(n, 0.3): sd = sqrt(n p (1-p)) ~ 205; allow 5 sd.
  CHECK(std::abs(static_cast<double>(zeros) - 0.3 * n) < 5 * std::sqrt(n * 0.21));
  drop.eval();
  CHECK(drop(x).impl() == x.impl());
}

TEST_CASE("dropout: the module's generator makes masks reproducible by seed") {
  const Variable x(Tensor::ones({1000}));
  nn::Dropout a(nn::DropoutOptions{.p = 0.5, .seed = 7});
  nn::Dropout b(nn::DropoutOptions{.p = 0.5, .seed = 7});
  nn::Dropout c(nn::DropoutOptions{.p = 0.5, .seed = 8});
  const Tensor ya = a(x).data();
  CHECK(core::max_abs_diff(ya, b(x).data()) == 0.0);
  CHECK(core::max_abs_diff(ya, c(x).data()) > 0.0);
  // Consecutive calls draw new masks; reseeding replays them.
  CHECK(core::max_abs_diff(ya, a(x).data()) > 0.0);
  a.generator().set_state(7, 0);
  CHECK(core::max_abs_diff(ya, a(x).data()) == 0.0);
}

TEST_CASE("drop_path: drops whole samples with probability p and scales the rest") {
  nn::DropPath dp(nn::DropPathOptions{.p = 0.2, .seed = 3});
  const std::int64_t n = 20000;
  const Variable x(Tensor::ones({n, 3, 2, 2}));
  const Tensor y = dp(x).data();
  const auto per_sample = core::sum(y, {1, 2, 3}).to_vector<double>();
  std::int64_t dropped = 0;
  for (double s : per_sample) {
    if (s == 0.0) ++dropped;
    else CHECK_MESSAGE(std::abs(s - 12.0 / 0.8) < 1e-4, "kept sample sums to " << s);
  }
  CHECK(std::abs(static_cast<double>(dropped) - 0.2 * n) < 5 * std::sqrt(n * 0.16));
  // Mean preserved in expectation.
  CHECK(core::mean(y).item<double>() == doctest::Approx(1.0).epsilon(0.03));
  dp.eval();
  CHECK(dp(x).impl() == x.impl());
  nn::DropPath off(nn::DropPathOptions{.p = 0.0});
  CHECK(off(x).impl() == x.impl());
  CHECK_THROWS_AS(nn::DropPath(nn::DropPathOptions{.p = 1.5}), core::ValueError);
}

TEST_CASE("drop_path: gradient is the same per-sample mask") {
  nn::DropPath dp(nn::DropPathOptions{.p = 0.5, .seed = 11});
  const Variable x(Tensor::ones({64, 2}), true);
  const Variable y = dp(x);
  ag::sum(y).backward();
  CHECK(core::max_abs_diff(x.grad(), y.data()) == 0.0);
}

TEST_CASE("seed_dropout: reseeds every Dropout and DropPath of a model") {
  auto a = nn::efficientnet_b0(nn::EfficientNetOptions{.num_classes = 10});
  auto b = nn::efficientnet_b0(nn::EfficientNetOptions{.num_classes = 10});
  nn::seed_dropout(*a, 99);
  nn::seed_dropout(*b, 99);
  std::vector<std::uint64_t> seeds_a, seeds_b;
  for (auto& [name, m] : a->named_modules())
    if (auto* d = dynamic_cast<nn::DropPath*>(m.get())) seeds_a.push_back(d->generator().seed());
  for (auto& [name, m] : b->named_modules())
    if (auto* d = dynamic_cast<nn::DropPath*>(m.get())) seeds_b.push_back(d->generator().seed());
  CHECK(seeds_a.size() == 16);
  CHECK(seeds_a == seeds_b);
}

// ---- load_state_dict errors ----

TEST_CASE("load_state_dict: missing and unexpected and mismatched keys are listed by name and the model is untouched") {
  core::Generator gen(12);
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Conv2d>(nn::Conv2dOptions{.in_channels = 3, .out_channels = 4, .kernel_size = 3}, gen));
  model->push_back(std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions{.num_features = 4}));
  const nn::StateDict before = model->state_dict();
  std::vector<Tensor> snapshot;
  for (const auto& [name, t] : before) snapshot.push_back(t.clone());

  nn::StateDict bad;
  bad.emplace_back("0.weight", Tensor::zeros({4, 3, 5, 5}));           // shape mismatch
  bad.emplace_back("0.bias", Tensor::zeros({4}));                      // fine
  bad.emplace_back("1.weight", Tensor::zeros({4}));                    // fine
  bad.emplace_back("1.running_mean", Tensor::zeros({4}));              // fine
  bad.emplace_back("1.running_var", Tensor::zeros({4}));               // fine
  bad.emplace_back("1.num_batches_tracked", Tensor::scalar(5, DType::i64));
  bad.emplace_back("2.weight", Tensor::zeros({4}));                    // unexpected
  // missing: 1.bias
  std::string message;
  try {
    model->load_state_dict(bad, true);
  } catch (const core::ValueError& e) {
    message = e.what();
  }
  CAPTURE(message);
  CHECK(message.find("missing keys: 1.bias") != std::string::npos);
  CHECK(message.find("unexpected keys: 2.weight") != std::string::npos);
  CHECK(message.find("0.weight: checkpoint [4, 3, 5, 5] vs model [4, 3, 3, 3]") != std::string::npos);
  const nn::StateDict after = model->state_dict();
  REQUIRE(after.size() == snapshot.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    CHECK_MESSAGE(core::max_abs_diff(after[i].second.to(DType::f64), snapshot[i].to(DType::f64)) == 0.0,
                  after[i].first << " changed after a failed load");

  // strict = false tolerates missing and unexpected keys, never a shape mismatch.
  CHECK_THROWS_AS(model->load_state_dict(bad, false), core::ValueError);
  bad.erase(bad.begin());
  model->load_state_dict(bad, false);
  CHECK(model->state_dict()[6].second.item<std::int64_t>() == 5);
  CHECK(core::max_abs_diff(model->state_dict()[2].second, Tensor::zeros({4})) == 0.0);
}

TEST_CASE("load_state_dict: a state dict of the right layout round-trips exactly") {
  core::Generator gen(13);
  auto a = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .cifar_stem = true, .width_multiplier = 0.25}, gen);
  auto b = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .cifar_stem = true, .width_multiplier = 0.25}, gen);
  b->load_state_dict(a->state_dict());
  const auto sa = a->state_dict(), sb = b->state_dict();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    CHECK(sa[i].first == sb[i].first);
    CHECK(core::max_abs_diff(sa[i].second.to(DType::f64), sb[i].second.to(DType::f64)) == 0.0);
  }
}
