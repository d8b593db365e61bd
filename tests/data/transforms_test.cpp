// Transform samplers and classes: parameter ranges, draw determinism, probabilities, presets,
// argument errors. (Functional cores are compared with torchvision in transforms_golden_test.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/generator.h"
#include "data/synthetic.h"
#include "data/transforms/color_jitter.h"
#include "data/transforms/gaussian_blur.h"
#include "data/transforms/grayscale.h"
#include "data/transforms/horizontal_flip.h"
#include "data/transforms/normalize.h"
#include "data/transforms/presets.h"
#include "data/transforms/random_resized_crop.h"
#include "data/transforms/solarize.h"

namespace data = selfsup::data;
using selfsup::core::Generator;

namespace {

data::Image test_image(std::int64_t c = 3, std::int64_t h = 32, std::int64_t w = 32) {
  return data::SyntheticDataset({.size = 1, .channels = c, .height = h, .width = w}).get(0).image;
}

bool same(const data::Image& a, const data::Image& b) {
  return a.channels == b.channels && a.height == b.height && a.width == b.width && a.pixels == b.pixels;
}

}  // namespace

TEST_CASE("random_resized_crop: sampled boxes lie inside the image with area and ratio in range") {
  const data::RandomResizedCropOptions o{.height = 32, .width = 32, .scale_min = 0.08, .scale_max = 1.0};
  Generator gen(7);
  int fallbacks = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto b = data::RandomResizedCrop::get_params(32, 48, o, gen);
    REQUIRE(b.top >= 0);
    REQUIRE(b.left >= 0);
    REQUIRE(b.top + b.height <= 32);
    REQUIRE(b.left + b.width <= 48);
    const double area = static_cast<double>(b.height * b.width) / (32.0 * 48.0);
    // Rounding to whole pixels moves area and ratio slightly outside the continuous ranges.
    if (area < 0.06 || area > 1.0) ++fallbacks;
    const double ratio = static_cast<double>(b.width) / static_cast<double>(b.height);
    CHECK(ratio > 0.5);
    CHECK(ratio < 2.0);
  }
  CHECK(fallbacks == 0);
}

TEST_CASE("random_resized_crop: falls back to the central crop when no try fits") {
  // scale > 1 can never fit: torchvision returns the central crop clamped to the ratio range.
  const data::RandomResizedCropOptions o{.height = 8, .width = 8, .scale_min = 2.0, .scale_max = 3.0};
  Generator gen(1);
  const auto wide = data::RandomResizedCrop::get_params(10, 40, o, gen);
  CHECK(wide.height == 10);
  CHECK(wide.width == 13);  // round(10 * 4/3)
  CHECK(wide.left == 13);
  const auto square = data::RandomResizedCrop::get_params(20, 20, o, gen);
  CHECK(square.height == 20);
  CHECK(square.width == 20);
  CHECK(gen.offset() == 40);  // ten tries of two draws each, per call
}

TEST_CASE("random_resized_crop: same generator state gives the same output") {
  const data::RandomResizedCrop rrc({.height = 16, .width = 16});
  const auto x = test_image();
  Generator a(3), b(3), c(4);
  const auto ya = rrc(x, a), yb = rrc(x, b), yc = rrc(x, c);
  CHECK(same(ya, yb));
  CHECK_FALSE(same(ya, yc));
  CHECK(ya.height == 16);
}

TEST_CASE("random_horizontal_flip: flips about half the time and flip is an involution") {
  const auto x = test_image(1, 4, 6);
  CHECK(same(data::hflip(data::hflip(x)), x));
  const data::RandomHorizontalFlip flip(0.5);
  Generator gen(11);
  int flipped = 0;
  for (int i = 0; i < 1000; ++i) flipped += same(flip(x, gen), x) ? 0 : 1;
  CHECK(flipped > 430);
  CHECK(flipped < 570);
}

TEST_CASE("color_jitter: factors are drawn inside their ranges and p skips the transform") {
  const data::ColorJitterOptions o{.brightness = 0.4, .contrast = 0.4, .saturation = 0.2, .hue = 0.1};
  Generator gen(5);
  for (int i = 0; i < 500; ++i) {
    const auto p = data::ColorJitter::get_params(o, gen);
    REQUIRE(p.brightness.has_value());
    CHECK(*p.brightness >= 0.6);
    CHECK(*p.brightness <= 1.4);
    CHECK(*p.saturation >= 0.8);
    CHECK(*p.saturation <= 1.2);
    CHECK(std::abs(*p.hue) <= 0.1);
    auto order = p.order;
    std::sort(order.begin(), order.end());
    CHECK(order == std::array<int, 4>{0, 1, 2, 3});
  }
  const auto none = data::ColorJitter::get_params({.brightness = 0.0, .hue = 0.0}, gen);
  CHECK_FALSE(none.brightness.has_value());
  CHECK_FALSE(none.hue.has_value());
  const data::ColorJitter never({.brightness = 0.5, .p = 0.0});
  const auto x = test_image();
  CHECK(same(never(x, gen), x));
}

TEST_CASE("color adjustments: identity factors and one-channel rules") {
  const auto x = test_image();
  CHECK(same(data::adjust_brightness(x, 1.0), x));
  CHECK(same(data::adjust_hue(test_image(1, 5, 5), 0.3), test_image(1, 5, 5)));
  const auto gray = data::adjust_saturation(x, 0.0);
  CHECK(gray.at(0, 3, 4) == doctest::Approx(gray.at(2, 3, 4)).epsilon(1e-6));
  CHECK_THROWS_AS(data::adjust_hue(x, 0.7), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::adjust_contrast(x, -1.0), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::adjust_brightness(test_image(3, 4, 4), -0.1), selfsup::core::ValueError);
}

TEST_CASE("random_grayscale: keeps the channel count") {
  const data::RandomGrayscale always(1.0);
  Generator gen(0);
  const auto y = always(test_image(), gen);
  CHECK(y.channels == 3);
  CHECK(y.at(0, 5, 5) == y.at(1, 5, 5));
  CHECK(y.at(1, 5, 5) == y.at(2, 5, 5));
}

TEST_CASE("gaussian_blur: kernel is normalised and the sampled sigma is in range") {
  const auto k = data::gaussian_kernel1d(7, 1.3);
  float sum = 0;
  for (const float v : k) sum += v;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
  CHECK(k[0] == doctest::Approx(k[6]));
  Generator gen(2);
  for (int i = 0; i < 200; ++i) {
    const double s = data::GaussianBlur::get_params({.sigma_min = 0.1, .sigma_max = 2.0}, gen);
    CHECK(s >= 0.1);
    CHECK(s <= 2.0);
  }
  CHECK_THROWS_AS(data::GaussianBlur({.kernel_size = 4}), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::gaussian_blur(test_image(3, 2, 2), 5, 5, 1.0, 1.0), selfsup::core::ValueError);
}

TEST_CASE("solarize and normalize: reject bad arguments") {
  CHECK_THROWS_AS(data::RandomSolarize(1.5, 0.2), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::Normalize({0.5, 0.5}, {0.2}), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::normalize(test_image(), {0.5, 0.5}, {0.1, 0.1}), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::Normalize({0.5}, {0.0}), selfsup::core::ValueError);
}

TEST_CASE("presets: every recipe gives two views of the requested size for CIFAR and Fashion-MNIST") {
  for (const auto& name : data::preset_names()) {
    const auto cifar = data::cifar_preset(name);
    const auto fmnist = data::fashion_mnist_preset(name);
    REQUIRE(cifar.num_views() == 2);
    REQUIRE(fmnist.num_views() == 2);
    Generator gen(9);
    const auto views = cifar(test_image(3, 32, 32), gen);
    CHECK(views.at(0).channels == 3);
    CHECK(views.at(1).height == 32);
    const auto gviews = fmnist(test_image(1, 28, 28), gen);
    CHECK(gviews.at(0).channels == 1);
    CHECK(gviews.at(1).width == 28);
    for (const float v : views[0].pixels) REQUIRE(std::isfinite(v));
  }
  CHECK_THROWS_AS(data::cifar_preset("swav"), selfsup::core::ValueError);
}

TEST_CASE("presets: byol views are asymmetric in blur and solarize") {
  const auto byol = data::cifar_preset("byol");
  CHECK(byol.view(0)->name().find("GaussianBlur(kernel_size=3, sigma=(0.1, 2), p=1)") != std::string::npos);
  CHECK(byol.view(1)->name().find("p=0.1)") != std::string::npos);
  CHECK(byol.view(0)->name().find("RandomSolarize(threshold=0.500000, p=0.000000)") != std::string::npos);
  CHECK(byol.view(1)->name().find("RandomSolarize(threshold=0.500000, p=0.200000)") != std::string::npos);
  // Solarize without normalisation: over many draws view 2 solarizes some samples, view 1 never.
  const auto raw = data::make_preset("byol", {.size = 16, .channels = 3});
  CHECK(raw.view(0)->name().find("Normalize") == std::string::npos);
}

TEST_CASE("multi_view: views are deterministic given the generator") {
  const auto simclr = data::cifar_preset("simclr");
  const auto x = test_image();
  Generator a(42), b(42);
  const auto va = simclr(x, a), vb = simclr(x, b);
  CHECK(same(va[0], vb[0]));
  CHECK(same(va[1], vb[1]));
  CHECK_FALSE(same(va[0], va[1]));
}
