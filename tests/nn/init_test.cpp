// nn::init against torch's rules (fans, gains, bounds, standard deviations), and the torchvision
// default initialisation of each model checked by statistics (the values cannot match torch's:
// the RNG differs; the distributions must).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "nn/layers.h"

namespace {

namespace core = selfsup::core;
namespace nn = selfsup::nn;
namespace init = selfsup::nn::init;
using core::DType;
using core::Shape;
using core::Tensor;

struct Stats {
  double mean, std, max_abs;
};

Stats stats(const Tensor& t) {
  const auto v = t.to_vector<double>();
  double s = 0, s2 = 0, m = 0;
  for (double x : v) {
    s += x;
    s2 += x * x;
    m = std::max(m, std::abs(x));
  }
  const double n = static_cast<double>(v.size());
  return {s / n, std::sqrt(std::max(0.0, s2 / n - (s / n) * (s / n))), m};
}

}  // namespace

TEST_CASE("init: fans follow torch's _calculate_fan_in_and_fan_out") {
  CHECK(init::calculate_fans({7, 20}).fan_in == 20);
  CHECK(init::calculate_fans({7, 20}).fan_out == 7);
  CHECK(init::calculate_fans({8, 4, 3, 3}).fan_in == 36);
  CHECK(init::calculate_fans({8, 4, 3, 3}).fan_out == 72);
  // Depthwise [C, 1, k, k]: fan_out = C k k, as torch (so torchvision inits it like a dense conv).
  CHECK(init::calculate_fans({32, 1, 3, 3}).fan_in == 9);
  CHECK(init::calculate_fans({32, 1, 3, 3}).fan_out == 288);
  CHECK_THROWS_AS(init::calculate_fans({5}), core::ShapeError);
}

TEST_CASE("init: gains follow torch's calculate_gain") {
  CHECK(init::calculate_gain(init::Nonlinearity::linear) == 1.0);
  CHECK(init::calculate_gain(init::Nonlinearity::sigmoid) == 1.0);
  CHECK(init::calculate_gain(init::Nonlinearity::relu) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::tanh) == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain(init::Nonlinearity::leaky_relu, 0.0) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::leaky_relu, std::sqrt(5.0)) == doctest::Approx(std::sqrt(1.0 / 3.0)));
  CHECK(init::calculate_gain(init::Nonlinearity::selu) == 0.75);
}

TEST_CASE("init: kaiming_normal fan_out relu has std sqrt(2 / fan_out) and kaiming_uniform a=sqrt(5) bound 1/sqrt(fan_in)") {
  core::Generator gen(1);
  Tensor w = Tensor::empty({128, 64, 3, 3});
  init::kaiming_normal_(w, gen, 0.0, init::FanMode::fan_out, init::Nonlinearity::relu);
  const Stats s = stats(w);
  CHECK(std::abs(s.mean) < 0.01 * s.std);
  CHECK(s.std == doctest::Approx(std::sqrt(2.0 / (128 * 9))).epsilon(0.01));

  init::kaiming_uniform_(w, gen, std::sqrt(5.0));
  const double bound = 1.0 / std::sqrt(64.0 * 9.0);
  const Stats u = stats(w);
  CHECK(u.max_abs <= bound);
  CHECK(u.max_abs > 0.999 * bound);
  CHECK(u.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));
}

TEST_CASE("init: xavier and uniform and normal and constant and trunc_normal fill in place") {
  core::Generator gen(2);
  Tensor w = Tensor::empty({200, 300}, DType::f64);
  const Tensor alias = w;  // a second handle sees the fills
  init::xavier_uniform_(w, gen);
  CHECK(stats(alias).max_abs <= std::sqrt(6.0 / 500.0));
  init::xavier_normal_(w, gen, 2.0);
  CHECK(stats(alias).std == doctest::Approx(2.0 * std::sqrt(2.0 / 500.0)).epsilon(0.02));
  init::uniform_(w, -0.5, 2.0, gen);
  CHECK(stats(alias).mean == doctest::Approx(0.75).epsilon(0.01));
  init::normal_(w, 3.0, 0.5, gen);
  CHECK(stats(alias).mean == doctest::Approx(3.0).epsilon(0.01));
  CHECK(stats(alias).std == doctest::Approx(0.5).epsilon(0.02));
  init::trunc_normal_(w, 0.0, 1.0, -0.5, 1.5, gen);
  for (double v : alias.to_vector<double>()) REQUIRE((v >= -0.5 && v <= 1.5));
  init::ones_(w);
  CHECK(stats(alias).mean == 1.0);
  init::zeros_(w);
  CHECK(stats(alias).max_abs == 0.0);
  Tensor ints = Tensor::zeros({3}, DType::i64);
  CHECK_THROWS_AS(init::ones_(ints), core::DTypeError);
}

TEST_CASE("init: a model's initial weights are a function of the generator's seed") {
  core::Generator a(42), b(42), c(43);
  auto ma = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .width_multiplier = 0.25}, a);
  auto mb = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .width_multiplier = 0.25}, b);
  auto mc = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .width_multiplier = 0.25}, c);
  const auto sa = ma->state_dict(), sb = mb->state_dict(), sc = mc->state_dict();
  bool all_equal = true, any_differs = false;
  for (std::size_t i = 0; i < sa.size(); ++i) {
    all_equal = all_equal && core::max_abs_diff(sa[i].second.to(DType::f64), sb[i].second.to(DType::f64)) == 0.0;
    any_differs = any_differs || core::max_abs_diff(sa[i].second.to(DType::f64), sc[i].second.to(DType::f64)) > 0.0;
  }
  CHECK(all_equal);
  CHECK(any_differs);
}

TEST_CASE("resnet: torchvision init with convs kaiming_normal fan_out relu and BN 1 and 0 and fc torch's Linear default") {
  core::Generator gen(3);
  auto m = nn::resnet18(nn::ResNetOptions{}, gen);
  for (const auto& [key, t] : m->state_dict()) {
    CAPTURE(key);
    if (key.ends_with("num_batches_tracked")) continue;
    const Stats s = stats(t);
    if (t.dim() == 4) {
      // N(0, 2 / fan_out), fan_out = K R S.
      const double expected = std::sqrt(2.0 / static_cast<double>(t.size(0) * t.size(2) * t.size(3)));
      CHECK(s.std == doctest::Approx(expected).epsilon(t.numel() > 20000 ? 0.02 : 0.06));
    } else if (key == "fc.weight") {
      CHECK(s.max_abs <= 1.0 / std::sqrt(512.0));
      CHECK(s.std == doctest::Approx(1.0 / std::sqrt(3.0 * 512.0)).epsilon(0.02));
    } else if (key == "fc.bias") {
      CHECK(s.max_abs <= 1.0 / std::sqrt(512.0));
    } else if (key.ends_with("weight") || key.ends_with("running_var")) {
      CHECK(s.mean == 1.0);
      CHECK(s.std == 0.0);
    } else {
      CHECK(s.max_abs == 0.0);  // BN bias, running_mean
    }
  }
}

TEST_CASE("resnet: zero_init_residual zeroes the last BN weight of every block") {
  auto basic = nn::resnet18(nn::ResNetOptions{.num_classes = 10, .width_multiplier = 0.25, .zero_init_residual = true});
  int zeroed = 0;
  for (const auto& [key, t] : basic->state_dict()) {
    if (key.ends_with("bn2.weight")) {
      CHECK_MESSAGE(stats(t).max_abs == 0.0, key);
      ++zeroed;
    } else if (key.ends_with("bn1.weight")) {
      CHECK_MESSAGE(stats(t).mean == 1.0, key);
    }
  }
  CHECK(zeroed == 8);
  auto bottleneck = nn::resnet50(nn::ResNetOptions{.num_classes = 10, .width_multiplier = 0.25, .zero_init_residual = true});
  zeroed = 0;
  for (const auto& [key, t] : bottleneck->state_dict())
    if (key.ends_with("bn3.weight")) {
      CHECK_MESSAGE(stats(t).max_abs == 0.0, key);
      ++zeroed;
    }
  CHECK(zeroed == 16);
}

TEST_CASE("efficientnet: torchvision init with convs kaiming_normal fan_out and zero bias and Linear U(+-1/sqrt(out))") {
  core::Generator gen(4);
  auto m = nn::efficientnet_b0(nn::EfficientNetOptions{}, gen);
  for (const auto& [key, t] : m->state_dict()) {
    CAPTURE(key);
    const Stats s = t.dtype() == DType::i64 ? Stats{0, 0, 0} : stats(t);
    if (t.dim() == 4) {
      // Depthwise convs too: fan_out = C k k.
      const double expected = std::sqrt(2.0 / static_cast<double>(t.size(0) * t.size(2) * t.size(3)));
      if (t.numel() >= 1000) CHECK(s.std == doctest::Approx(expected).epsilon(0.1));
    } else if (key == "classifier.1.weight") {
      CHECK(s.max_abs <= 1.0 / std::sqrt(1000.0));
      CHECK(s.std == doctest::Approx(1.0 / std::sqrt(3.0 * 1000.0)).epsilon(0.02));
    } else if (key.find(".fc1.bias") != std::string::npos || key.find(".fc2.bias") != std::string::npos ||
               key == "classifier.1.bias") {
      CHECK(s.max_abs == 0.0);
    }
  }
}

TEST_CASE("mobilenet_v3: torchvision init with Linear N(0 with std 0.01) and zero bias") {
  core::Generator gen(5);
  auto m = nn::mobilenet_v3_large(nn::MobileNetV3Options{}, gen);
  for (const auto& [key, t] : m->state_dict()) {
    CAPTURE(key);
    if (key == "classifier.0.weight" || key == "classifier.3.weight") {
      CHECK(stats(t).std == doctest::Approx(0.01).epsilon(0.02));
    } else if (key == "classifier.0.bias" || key == "classifier.3.bias" || key.ends_with("fc1.bias")) {
      CHECK(stats(t).max_abs == 0.0);
    } else if (key == "features.0.0.weight") {
      CHECK(stats(t).std == doctest::Approx(std::sqrt(2.0 / (16.0 * 9.0))).epsilon(0.15));
    }
  }
}
