// Tensor: factories, views, conversions, element access, errors, and the seeded generator.
#include <doctest/doctest.h>

#include <sstream>

#include "core/backend.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/tensor.h"

using namespace selfsup::core;

TEST_CASE("tensor: factories fill shape and values") {
  const Tensor z = Tensor::zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.numel() == 6);
  CHECK(z.dtype() == DType::f32);
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(Tensor::ones({4}, DType::f64).to_vector<double>() == std::vector<double>(4, 1.0));
  CHECK(Tensor::full({2}, 2.5, DType::f64).to_vector<double>() == std::vector<double>{2.5, 2.5});
  CHECK(Tensor::arange(4, DType::i64).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(Tensor::scalar(3.0).dim() == 0);
  CHECK(Tensor::scalar(3.0).item<double>() == 3.0);
  CHECK(Tensor::zeros({0, 3}).numel() == 0);
}

TEST_CASE("tensor: from_vector checks the element count") {
  const Tensor t = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.at({1, 2}) == 6.0);
  CHECK_THROWS_AS(Tensor::from_vector<double>({1, 2, 3}, {2, 2}), ShapeError);
}

TEST_CASE("tensor: reshape of a contiguous tensor is a free view") {
  const Tensor t = Tensor::arange(12, DType::f64);
  const Tensor r = t.reshape({3, -1});
  CHECK(r.shape() == Shape{3, 4});
  CHECK(r.shares_storage(t));
  CHECK(r.at({2, 1}) == 9.0);
  CHECK_THROWS_WITH_AS(t.reshape({5, -1}), doctest::Contains("cannot infer -1"), ShapeError);
  CHECK_THROWS_WITH_AS(t.reshape({5, 2}), doctest::Contains("has 10 elements"), ShapeError);
}

TEST_CASE("tensor: permute slice select and expand are views with the right elements") {
  const Tensor t = Tensor::arange(24, DType::f64).reshape({2, 3, 4});
  const Tensor p = t.permute({2, 0, 1});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.shares_storage(t));
  CHECK_FALSE(p.is_contiguous());
  CHECK(p.at({3, 1, 2}) == t.at({1, 2, 3}));
  const Tensor s = t.slice(2, 1, 4, 2);
  CHECK(s.shape() == Shape{2, 3, 2});
  CHECK(s.at({1, 1, 1}) == t.at({1, 1, 3}));
  CHECK(t.slice(1, -2, 3).at({0, 0, 0}) == t.at({0, 1, 0}));
  CHECK(t.select(0, 1).at({0, 0}) == 12.0);
  const Tensor e = Tensor::arange(3, DType::f64).reshape({3, 1}).expand({2, 3, 5});
  CHECK(e.at({1, 2, 4}) == 2.0);
  CHECK(e.strides()[0] == 0);
  const Tensor c = p.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.to_vector<double>() == p.to_vector<double>());
  CHECK(t.unsqueeze(1).shape() == Shape{2, 1, 3, 4});
  CHECK(t.unsqueeze(-1).shape() == Shape{2, 3, 4, 1});
  CHECK(t.unsqueeze(1).squeeze(1).shape() == t.shape());
  CHECK_THROWS_AS(t.permute({0, 0, 1}), ShapeError);
  CHECK_THROWS_AS(t.expand({3, 3, 4}), ShapeError);
  CHECK_THROWS_WITH_AS(t.view({4, 6}).permute({1, 0}).view({24}), doctest::Contains("not contiguous"), ShapeError);
}

TEST_CASE("tensor: dtype conversion and copy_ with broadcast") {
  const Tensor t = Tensor::from_vector<double>({1.5, -2.25, 3.0}, {3});
  CHECK(t.to(DType::f32).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f});
  CHECK(t.to(DType::i64).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});
  Tensor dst = Tensor::zeros({2, 3}, DType::f32);
  dst.copy_(t);
  CHECK(dst.at({1, 1}) == -2.25);
  dst.fill_(7.0);
  CHECK(dst.at({0, 2}) == 7.0);
}

TEST_CASE("tensor: element access errors name the problem") {
  const Tensor t = Tensor::zeros({2, 2});
  CHECK_THROWS_WITH_AS(t.at({2, 0}), doctest::Contains("out of range"), ShapeError);
  CHECK_THROWS_WITH_AS(t.at({0}), doctest::Contains("index has 1 entries"), ShapeError);
  CHECK_THROWS_WITH_AS(t.item<double>(), doctest::Contains("expected exactly 1"), ShapeError);
  CHECK_THROWS_WITH_AS(t.data<double>(), doctest::Contains("requested f64 but the tensor is f32"), DTypeError);
  CHECK_THROWS_AS(t.size(2), ShapeError);
  CHECK_THROWS_AS(Tensor().device(), DeviceError);
  CHECK_THROWS_AS(Tensor::zeros({2}, DType::f32, Device::cuda()), DeviceError);
}

TEST_CASE("tensor: printing shows shape dtype and values") {
  std::ostringstream os;
  os << Tensor::from_vector<float>({1.0f, 2.5f}, {1, 2});
  CHECK(os.str() == "Tensor(shape=[1, 2], dtype=f32, device=cpu, values=[1, 2.5])");
  CHECK(Tensor().to_string() == "Tensor(undefined)");
}

TEST_CASE("generator: the same seed gives the same numbers and advances by numel") {
  Generator a(42), b(42), c(43);
  const Tensor x = Tensor::randn({1000}, a, DType::f64);
  const Tensor y = Tensor::randn({1000}, b, DType::f64);
  CHECK(x.to_vector<double>() == y.to_vector<double>());
  CHECK(a.offset() == 1000);
  CHECK(Tensor::randn({1000}, c, DType::f64).to_vector<double>() != x.to_vector<double>());
  // Philox-4x32-10 known-answer test (Random123 kat_vectors: counter 0, key 0).
  const auto block = philox4x32(0, 0);
  CHECK(block[0] == 0x6627e8d5u);
  CHECK(block[1] == 0xe169c58du);
  CHECK(block[2] == 0xbc57ac4cu);
  CHECK(block[3] == 0x9b00dbd8u);
}

TEST_CASE("generator: statistics of rand and randn are plausible") {
  Generator gen(7);
  const auto u = Tensor::rand({200000}, gen, DType::f64, -1.0, 3.0).to_vector<double>();
  double lo = 1e9, hi = -1e9, mean = 0;
  for (const double v : u) lo = std::min(lo, v), hi = std::max(hi, v), mean += v;
  mean /= static_cast<double>(u.size());
  CHECK(lo >= -1.0);
  CHECK(hi < 3.0);
  CHECK(mean == doctest::Approx(1.0).epsilon(0.01));
  const Tensor n = Tensor::randn({200000}, gen, DType::f32, 2.0, 0.5);
  CHECK(selfsup::core::mean(n).item<double>() == doctest::Approx(2.0).epsilon(0.01));
}

TEST_CASE("generator: draws are bitwise identical for 1 and 2 threads") {
  set_num_threads(1);
  Generator a(5);
  const auto one = Tensor::randn({300000}, a).to_vector<float>();
  set_num_threads(2);
  Generator b(5);
  const auto two = Tensor::randn({300000}, b).to_vector<float>();
  set_num_threads(0);
  CHECK(one == two);
}
