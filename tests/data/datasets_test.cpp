// Synthetic dataset, in-memory dataset and normalisation statistics.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "data/image.h"
#include "data/stats.h"
#include "data/synthetic.h"

namespace data = selfsup::data;

TEST_CASE("synthetic: samples are deterministic, labelled round robin and 8-bit valued") {
  const data::SyntheticDataset ds({.size = 30, .channels = 3, .height = 16, .width = 20, .num_classes = 10, .seed = 4});
  CHECK(ds.size() == 30);
  const auto a = ds.get(13), b = ds.get(13);
  CHECK(a.image.pixels == b.image.pixels);
  CHECK(a.label == 3);
  CHECK(a.image.height == 16);
  CHECK(a.image.width == 20);
  for (const float v : a.image.pixels) {
    REQUIRE(v >= 0.0f);
    REQUIRE(v <= 1.0f);
    CHECK(std::abs(v * 255.0f - std::round(v * 255.0f)) < 1e-3f);
  }
  const data::SyntheticDataset other({.size = 30, .channels = 3, .height = 16, .width = 20, .seed = 5});
  CHECK(other.get(13).image.pixels != a.image.pixels);
  CHECK(ds.class_names().at(0) == "disk");
  CHECK_THROWS_AS(ds.get(30), selfsup::core::ValueError);
  CHECK_THROWS_AS(data::SyntheticDataset({.num_classes = 11}), selfsup::core::ValueError);
}

TEST_CASE("synthetic: classes differ in their images") {
  const data::SyntheticDataset ds({.size = 10, .channels = 1});
  std::set<std::vector<float>> distinct;
  for (std::int64_t i = 0; i < 10; ++i) distinct.insert(ds.get(i).image.pixels);
  CHECK(distinct.size() == 10);
}

TEST_CASE("in_memory_dataset: records convert by division by 255 and bad sizes are rejected") {
  std::vector<std::uint8_t> px(2 * 3 * 2 * 2);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 10);
  const data::InMemoryDataset ds(px, {1, 0}, 3, 2, 2, 2);
  CHECK(ds.get(1).image.at(2, 1, 1) == 230.0f / 255.0f);
  CHECK(ds.label(0) == 1);
  CHECK_THROWS_AS(data::InMemoryDataset(px, {1, 0, 1}, 3, 2, 2, 2), selfsup::core::ValueError);
}

TEST_CASE("compute_normalization: matches a direct computation") {
  // Two 1-channel 1x2 images {0, 255} and {51, 102}: pixels 0, 1, 0.2, 0.4.
  const data::InMemoryDataset ds({0, 255, 51, 102}, {0, 0}, 1, 1, 2, 1);
  const auto n = data::compute_normalization(ds);
  const double mean = (0.0 + 1.0 + 0.2 + 0.4) / 4.0;
  const double var = ((0 - mean) * (0 - mean) + (1 - mean) * (1 - mean) + (0.2 - mean) * (0.2 - mean) + (0.4 - mean) * (0.4 - mean)) / 4.0;
  CHECK(n.mean.at(0) == doctest::Approx(mean).epsilon(1e-6));
  CHECK(n.std.at(0) == doctest::Approx(std::sqrt(var)).epsilon(1e-6));
  CHECK(data::Normalization::cifar10().std.at(0) == 0.2470);
  CHECK(data::Normalization::fashion_mnist().to_string() == "mean=[0.286] std=[0.353]");
}

TEST_CASE("image: tensor round trip keeps shape and values") {
  data::Image img(2, 3, 4);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<float>(i) * 0.5f;
  const auto t = data::to_tensor(img);
  CHECK(t.shape() == selfsup::core::Shape{2, 3, 4});
  const auto back = data::from_tensor(t);
  CHECK(back.pixels == img.pixels);
  CHECK(back.shape_string() == "[2, 3, 4]");
}
