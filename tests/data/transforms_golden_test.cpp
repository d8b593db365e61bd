// Each functional transform against torchvision.transforms.functional (0.14, float path) on the
// fixed parameters stored in tests/golden/data_*.safetensors (tools/make_golden_data.py).
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>

#include "data/image.h"
#include "data/transforms/color_jitter.h"
#include "data/transforms/gaussian_blur.h"
#include "data/transforms/grayscale.h"
#include "data/transforms/horizontal_flip.h"
#include "data/transforms/normalize.h"
#include "data/transforms/random_resized_crop.h"
#include "data/transforms/solarize.h"
#include "tests/support/golden.h"

namespace {

using selfsup::data::Image;
using selfsup::test::Golden;
using Json = nlohmann::json;

/// Compares every element within atol + rtol * |expected|; reports the worst element.
void check_close(const Image& actual, const selfsup::core::Tensor& expected, const std::string& what, double atol = 1e-5,
                 double rtol = 1e-5) {
  REQUIRE_MESSAGE(expected.dim() == 3, what);
  REQUIRE_MESSAGE(actual.channels == expected.size(0), what << ": channels " << actual.channels);
  REQUIRE_MESSAGE(actual.height == expected.size(1), what << ": height " << actual.height);
  REQUIRE_MESSAGE(actual.width == expected.size(2), what << ": width " << actual.width);
  const auto ref = expected.to_vector<float>();
  double worst = 0.0;
  std::size_t worst_index = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    const double diff = std::abs(static_cast<double>(actual.pixels[i]) - ref[i]);
    const double excess = diff - (atol + rtol * std::abs(ref[i]));
    if (excess > 0) ++bad;
    if (diff > worst) worst = diff, worst_index = i;
  }
  INFO(what << ": max |diff| " << worst << " at flat index " << worst_index << " (actual "
            << actual.pixels[worst_index] << ", expected " << ref[worst_index] << "), " << bad << " elements out of tolerance");
  CHECK(bad == 0);
}

Image input(const Golden& g, const std::string& c) { return selfsup::data::from_tensor(g.tensor(c + ".input")); }
const selfsup::core::Tensor& output(const Golden& g, const std::string& c) { return g.tensor(c + ".output"); }

std::optional<double> opt(const Json& j) { return j.is_null() ? std::nullopt : std::optional<double>(j.get<double>()); }

}  // namespace

TEST_CASE("resized_crop: matches torchvision F.resized_crop bilinear") {
  const auto g = selfsup::test::load_golden("data_resized_crop");
  const auto args = g.args();
  REQUIRE(args.size() >= 5);
  for (const auto& [name, a] : args.items()) {
    const selfsup::data::CropParams box{a["top"], a["left"], a["height"], a["width"]};
    const Image y = selfsup::data::resized_crop(input(g, name), box, a["size"][0], a["size"][1]);
    check_close(y, output(g, name), "resized_crop " + name);
  }
}

TEST_CASE("resize: matches torchvision F.resize bilinear without antialias") {
  const auto g = selfsup::test::load_golden("data_resize");
  const auto args = g.args();
  for (const auto& [name, a] : args.items())
    check_close(selfsup::data::resize(input(g, name), a["size"][0], a["size"][1]), output(g, name), "resize " + name);
}

TEST_CASE("hflip: matches torchvision F.hflip") {
  const auto g = selfsup::test::load_golden("data_hflip");
  check_close(selfsup::data::hflip(input(g, "case0")), output(g, "case0"), "hflip", 0.0, 0.0);
}

TEST_CASE("color adjustments: match torchvision adjust_brightness contrast saturation and hue") {
  const auto g = selfsup::test::load_golden("data_color_adjust");
  int checked = 0;
  const auto args = g.args();
  for (const auto& [name, a] : args.items()) {
    const std::string fn = a["fn"];
    const double f = a["factor"];
    Image x = input(g, name);
    Image y;
    if (fn == "brightness") y = selfsup::data::adjust_brightness(std::move(x), f);
    else if (fn == "contrast") y = selfsup::data::adjust_contrast(std::move(x), f);
    else if (fn == "saturation") y = selfsup::data::adjust_saturation(std::move(x), f);
    else y = selfsup::data::adjust_hue(std::move(x), f);
    check_close(y, output(g, name), name);
    ++checked;
  }
  CHECK(checked == 39);
}

TEST_CASE("color_jitter: fixed order and factors match torchvision ColorJitter forward") {
  const auto g = selfsup::test::load_golden("data_color_jitter");
  const auto args = g.args();
  for (const auto& [name, a] : args.items()) {
    selfsup::data::ColorJitterParams p;
    for (int i = 0; i < 4; ++i) p.order[static_cast<std::size_t>(i)] = a["order"][static_cast<std::size_t>(i)];
    p.brightness = opt(a["brightness"]);
    p.contrast = opt(a["contrast"]);
    p.saturation = opt(a["saturation"]);
    p.hue = opt(a["hue"]);
    check_close(selfsup::data::color_jitter(input(g, name), p), output(g, name), "color_jitter " + name);
  }
}

TEST_CASE("rgb_to_grayscale: matches torchvision for 1 and 3 output channels") {
  const auto g = selfsup::test::load_golden("data_grayscale");
  const auto args = g.args();
  for (const auto& [name, a] : args.items())
    check_close(selfsup::data::rgb_to_grayscale(input(g, name), a["channels"]), output(g, name), "grayscale " + name);
}

TEST_CASE("gaussian_blur: matches torchvision F.gaussian_blur with reflect padding") {
  const auto g = selfsup::test::load_golden("data_gaussian_blur");
  const auto args = g.args();
  for (const auto& [name, a] : args.items()) {
    const std::int64_t k = a["kernel_size"];
    const double sigma = a["sigma"];
    check_close(selfsup::data::gaussian_blur(input(g, name), k, k, sigma, sigma), output(g, name), "gaussian_blur " + name);
  }
}

TEST_CASE("solarize: matches torchvision F.solarize") {
  const auto g = selfsup::test::load_golden("data_solarize");
  const auto args = g.args();
  for (const auto& [name, a] : args.items())
    check_close(selfsup::data::solarize(input(g, name), a["threshold"]), output(g, name), "solarize " + name, 0.0, 0.0);
}

TEST_CASE("normalize: matches torchvision F.normalize") {
  const auto g = selfsup::test::load_golden("data_normalize");
  const auto args = g.args();
  for (const auto& [name, a] : args.items())
    check_close(selfsup::data::normalize(input(g, name), a["mean"].get<std::vector<double>>(), a["std"].get<std::vector<double>>()),
                output(g, name), "normalize " + name);
}

TEST_CASE("transform chain: crop flip jitter blur solarize normalize matches torchvision") {
  const auto g = selfsup::test::load_golden("data_pipeline");
  const auto a = g.args()["case0"];
  Image y = input(g, "case0");
  y = selfsup::data::resized_crop(std::move(y), {a["crop"][0], a["crop"][1], a["crop"][2], a["crop"][3]}, a["size"][0], a["size"][1]);
  y = selfsup::data::hflip(std::move(y));
  selfsup::data::ColorJitterParams p;
  for (int i = 0; i < 4; ++i) p.order[static_cast<std::size_t>(i)] = a["order"][static_cast<std::size_t>(i)];
  p.brightness = a["brightness"].get<double>();
  p.contrast = a["contrast"].get<double>();
  p.saturation = a["saturation"].get<double>();
  p.hue = a["hue"].get<double>();
  y = selfsup::data::color_jitter(std::move(y), p);
  y = selfsup::data::gaussian_blur(y, 3, 3, a["sigma"], a["sigma"]);
  y = selfsup::data::solarize(std::move(y), a["solarize"]);
  y = selfsup::data::normalize(std::move(y), a["mean"].get<std::vector<double>>(), a["std"].get<std::vector<double>>());
  // Normalised values are up to ~4 in magnitude: 1e-5 relative on top of the absolute floor.
  check_close(y, output(g, "case0"), "pipeline", 2e-5, 1e-5);
}
