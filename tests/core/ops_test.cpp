// Core primitives against naive loops: elementwise with broadcasting, reductions, softmax,
// matmul, indexing and joining; plus thread-count reproducibility and named errors.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "core/backend.h"
#include "core/error.h"
#include "core/ops.h"
#include "tests/support/allclose.h"

using namespace selfsup::core;
using selfsup::test::check_allclose;

namespace {

// Naive broadcasting reference: out[i] = fn(a[ia], b[ib]) by explicit multi-index arithmetic.
Tensor naive_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& fn) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), "naive");
  Tensor out = Tensor::zeros(shape, DType::f64);
  std::vector<std::int64_t> idx(shape.size());
  for (std::int64_t flat = 0; flat < out.numel(); ++flat) {
    std::int64_t rest = flat;
    for (std::size_t d = shape.size(); d-- > 0;) idx[d] = rest % shape[d], rest /= shape[d];
    auto pick = [&](const Tensor& t) {
      std::vector<std::int64_t> ti(t.shape().size());
      for (std::size_t d = 0; d < ti.size(); ++d) {
        const std::size_t od = d + shape.size() - ti.size();
        ti[d] = t.shape()[d] == 1 ? 0 : idx[od];
      }
      return t.at(ti);
    };
    out.data<double>()[flat] = fn(pick(a), pick(b));
  }
  return out;
}

}  // namespace

TEST_CASE("elementwise: binary ops broadcast like naive loops in f64 and f32") {
  Generator gen(1);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 5}}, {{1}, {2, 3}}, {{2, 1, 4}, {3, 1}}, {{}, {3}}};
  for (const DType dtype : {DType::f64, DType::f32}) {
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = Tensor::rand(sa, gen, dtype, 0.5, 2.0);
      const Tensor b = Tensor::rand(sb, gen, dtype, 0.5, 2.0);
      const double tol = dtype == DType::f64 ? 1e-14 : 1e-6;
      CAPTURE(to_string(sa));
      CAPTURE(to_string(sb));
      check_allclose(add(a, b), naive_binary(a, b, std::plus<>()), tol, 0);
      check_allclose(sub(b, a), naive_binary(b, a, std::minus<>()), tol, tol);
      check_allclose(mul(a, b), naive_binary(a, b, std::multiplies<>()), tol, 0);
      check_allclose(div(a, b), naive_binary(a, b, std::divides<>()), tol, 0);
      check_allclose(maximum(a, b), naive_binary(a, b, [](double x, double y) { return std::max(x, y); }), 0, 0);
      check_allclose(pow(a, b), naive_binary(a, b, [](double x, double y) { return std::pow(x, y); }), tol * 10, 0);
      check_allclose(gt(a, b), naive_binary(a, b, [](double x, double y) { return double(x > y); }), 0, 0);
    }
  }
}

TEST_CASE("elementwise: relu_backward passes the gradient where the output is positive") {
  Generator gen(3);
  for (const DType dtype : {DType::f64, DType::f32}) {
    const Tensor grad = Tensor::rand({3, 4, 5}, gen, dtype, -2.0, 2.0);
    const Tensor out = relu(Tensor::rand({3, 4, 5}, gen, dtype, -1.0, 1.0));
    const Tensor expected = naive_binary(grad, out, [](double g, double y) { return y > 0 ? g : 0.0; });
    check_allclose(relu_backward(grad, out), expected, 0, 0);
    CHECK(sum(eq(relu_backward(grad, out), Tensor::zeros({3, 4, 5}, dtype))).item<double>() > 10);  // some masked
    // At y == 0 the gradient is 0, as in torch's threshold_backward.
    check_allclose(relu_backward(Tensor::ones({5}, dtype), Tensor::zeros({5}, dtype)), Tensor::zeros({5}, dtype), 0, 0);
  }
}

TEST_CASE("elementwise: strided inputs give the same result as contiguous copies") {
  Generator gen(2);
  const Tensor a = Tensor::randn({4, 6}, gen, DType::f64);
  const Tensor b = Tensor::randn({6, 4}, gen, DType::f64);
  check_allclose(add(a.transpose(0, 1), b), add(a.transpose(0, 1).contiguous(), b), 0, 0);
  check_allclose(exp(a.slice(1, 0, 6, 2)), exp(a.slice(1, 0, 6, 2).contiguous()), 0, 0);
}

TEST_CASE("elementwise: unary ops match the C library") {
  const std::vector<double> xs = {-2.5, -0.75, -0.1, 0.2, 0.9, 3.0};
  const Tensor x = Tensor::from_vector(xs);
  const Tensor pos = abs(x);
  struct Case {
    const char* name;
    Tensor got;
    std::function<double(double)> ref;
    bool positive;
  };
  const std::vector<Case> cases = {
      {"neg", neg(x), [](double v) { return -v; }, false},
      {"exp", exp(x), [](double v) { return std::exp(v); }, false},
      {"log", log(pos), [](double v) { return std::log(v); }, true},
      {"sqrt", sqrt(pos), [](double v) { return std::sqrt(v); }, true},
      {"rsqrt", rsqrt(pos), [](double v) { return 1 / std::sqrt(v); }, true},
      {"abs", abs(x), [](double v) { return std::abs(v); }, false},
      {"sign", sign(x), [](double v) { return double((v > 0) - (v < 0)); }, false},
      {"relu", relu(x), [](double v) { return v > 0 ? v : 0.0; }, false},
      {"sigmoid", sigmoid(x), [](double v) { return 1 / (1 + std::exp(-v)); }, false},
      {"tanh", tanh(x), [](double v) { return std::tanh(v); }, false},
      {"reciprocal", reciprocal(x), [](double v) { return 1 / v; }, false},
      {"square", square(x), [](double v) { return v * v; }, false},
      {"add_scalar", add(x, 1.5), [](double v) { return v + 1.5; }, false},
      {"mul_scalar", mul(x, -2.0), [](double v) { return v * -2.0; }, false},
      {"pow_scalar", pow(pos, 1.7), [](double v) { return std::pow(v, 1.7); }, true},
      {"clamp", clamp(x, -1.0, 0.5), [](double v) { return std::min(std::max(v, -1.0), 0.5); }, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::vector<double> expected;
    for (const double v : xs) expected.push_back(c.ref(c.positive ? std::abs(v) : v));
    check_allclose(c.got, Tensor::from_vector(expected), 1e-15, 1e-15);
  }
  CHECK_THROWS_WITH_AS(clamp(x, 1.0, 0.0), doctest::Contains("greater than max"), ValueError);
  CHECK_THROWS_WITH_AS(exp(Tensor::arange(3, DType::i64)), doctest::Contains("expected a floating tensor"), DTypeError);
}

TEST_CASE("elementwise: where and mismatched arguments") {
  const Tensor cond = Tensor::from_vector<double>({1, 0, 1});
  const Tensor a = Tensor::from_vector<double>({1, 2, 3});
  const Tensor b = Tensor::from_vector<double>({-1}, {1});
  CHECK(where(cond, a, b).to_vector<double>() == std::vector<double>{1, -1, 3});
  CHECK_THROWS_WITH_AS(add(Tensor::zeros({2, 3}), Tensor::zeros({4})), doctest::Contains("cannot be broadcast"), ShapeError);
  CHECK_THROWS_WITH_AS(add(Tensor::zeros({2}), Tensor::zeros({2}, DType::f64)), doctest::Contains("dtypes differ"), DTypeError);
  CHECK_THROWS_AS(add(Tensor::zeros({2}), Tensor()), ValueError);
}

TEST_CASE("reduce: sum mean amax amin over axes match naive loops") {
  Generator gen(3);
  const Tensor x = Tensor::randn({3, 4, 5}, gen, DType::f64);
  // naive: reduce axis 1 and axes {0, 2}
  Tensor s1 = Tensor::zeros({3, 5}, DType::f64), m1 = Tensor::full({3, 5}, -1e300, DType::f64);
  Tensor s02 = Tensor::zeros({4}, DType::f64);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 5; ++k) {
        const double v = x.at({i, j, k});
        s1.data<double>()[i * 5 + k] += v;
        m1.data<double>()[i * 5 + k] = std::max(m1.data<double>()[i * 5 + k], v);
        s02.data<double>()[j] += v;
      }
  check_allclose(sum(x, {1}), s1, 1e-14, 1e-14);
  check_allclose(sum(x, {-2}, true), s1.reshape({3, 1, 5}), 1e-14, 1e-14);
  check_allclose(sum(x, {0, 2}), s02, 1e-14, 1e-14);
  check_allclose(sum(x, {2, 0}), s02, 1e-14, 1e-14);
  check_allclose(mean(x, {1}), mul(s1, 0.25), 1e-14, 1e-14);
  check_allclose(amax(x, {1}), m1, 0, 0);
  check_allclose(amin(neg(x), {1}), neg(m1), 0, 0);
  CHECK(sum(x).dim() == 0);
  CHECK(sum(x).item<double>() == doctest::Approx(sum(s02).item<double>()).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(sum(x, {1, 1}), doctest::Contains("appears twice"), ShapeError);
  CHECK_THROWS_WITH_AS(sum(x, {3}), doctest::Contains("out of range"), ShapeError);
  CHECK_THROWS_AS(amax(Tensor::zeros({2, 0}), {1}), ShapeError);
}

TEST_CASE("reduce: results are bitwise identical for 1 and 2 threads") {
  Generator gen(4);
  const Tensor x = Tensor::randn({64, 3000}, gen);
  set_num_threads(1);
  const auto a = sum(x, {1}).to_vector<float>();
  const auto b = sum(x, {0}).to_vector<float>();
  const float c = sum(x).item<float>();
  set_num_threads(2);
  CHECK(sum(x, {1}).to_vector<float>() == a);
  CHECK(sum(x, {0}).to_vector<float>() == b);
  CHECK(sum(x).item<float>() == c);
  set_num_threads(0);
}

TEST_CASE("reduce: argmax sum_to and softmax") {
  const Tensor x = Tensor::from_vector<double>({1, 5, 2, 7, 3, 7}, {2, 3});
  CHECK(argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
  CHECK(argmax(x, 0, true).shape() == Shape{1, 3});
  check_allclose(sum_to(Tensor::ones({2, 3, 4}, DType::f64), {3, 1}), Tensor::full({3, 1}, 8.0, DType::f64), 0, 0);
  const Tensor s = softmax(x, 1);
  const Tensor ls = log_softmax(x, 1);
  for (int i = 0; i < 2; ++i) {
    double z = 0;
    for (int j = 0; j < 3; ++j) z += std::exp(x.at({i, j}));
    for (int j = 0; j < 3; ++j) {
      CHECK(s.at({i, j}) == doctest::Approx(std::exp(x.at({i, j})) / z).epsilon(1e-14));
      CHECK(ls.at({i, j}) == doctest::Approx(x.at({i, j}) - std::log(z)).epsilon(1e-14));
    }
  }
  // softmax over a non-last axis equals the transposed computation
  check_allclose(softmax(x, 0), softmax(x.transpose(0, 1), 1).transpose(0, 1).contiguous(), 1e-15, 1e-15);
  // large logits stay finite
  CHECK(std::isfinite(log_softmax(Tensor::from_vector<float>({1000.f, 0.f}), 0).at({1})));
}

TEST_CASE("matmul: 2-d batched transposed and broadcast products match naive loops") {
  Generator gen(5);
  auto naive = [](const Tensor& a, const Tensor& b) {  // a [M, K], b [K, N]
    Tensor out = Tensor::zeros({a.size(0), b.size(1)}, DType::f64);
    for (std::int64_t i = 0; i < a.size(0); ++i)
      for (std::int64_t j = 0; j < b.size(1); ++j) {
        double acc = 0;
        for (std::int64_t k = 0; k < a.size(1); ++k) acc += a.at({i, k}) * b.at({k, j});
        out.data<double>()[i * b.size(1) + j] = acc;
      }
    return out;
  };
  const Tensor a = Tensor::randn({5, 7}, gen, DType::f64);
  const Tensor b = Tensor::randn({7, 3}, gen, DType::f64);
  check_allclose(matmul(a, b), naive(a, b), 1e-13, 1e-13);
  check_allclose(matmul(a.transpose(0, 1).contiguous(), b, true, false), naive(a, b), 1e-13, 1e-13);
  check_allclose(matmul(a, b.transpose(0, 1).contiguous(), false, true), naive(a, b), 1e-13, 1e-13);
  check_allclose(matmul(a.to(DType::f32), b.to(DType::f32)), naive(a, b), 1e-5, 1e-5);
  const Tensor ba = Tensor::randn({2, 5, 7}, gen, DType::f64);
  const Tensor bb = Tensor::randn({3, 1, 7, 3}, gen, DType::f64);
  const Tensor out = matmul(ba, bb);
  CHECK(out.shape() == Shape{3, 2, 5, 3});
  check_allclose(out.select(0, 2).select(0, 1), naive(ba.select(0, 1), bb.select(0, 2).select(0, 0)), 1e-13, 1e-13);
  check_allclose(matmul(ba, b).select(0, 1), naive(ba.select(0, 1), b), 1e-13, 1e-13);
  const Tensor v = Tensor::randn({7}, gen, DType::f64);
  check_allclose(matmul(a, v), naive(a, v.reshape({7, 1})).reshape({5}), 1e-13, 1e-13);
  CHECK_THROWS_WITH_AS(matmul(a, a), doctest::Contains("inner dimensions differ"), ShapeError);
  CHECK(matmul(Tensor::zeros({2, 0}), Tensor::zeros({0, 3})).to_vector<float>() == std::vector<float>(6, 0.f));
}

TEST_CASE("indexing: index_select index_add gather scatter_add one_hot") {
  const Tensor x = Tensor::arange(12, DType::f64).reshape({3, 4});
  const Tensor idx = Tensor::from_vector<std::int64_t>({2, 0, 2});
  const Tensor rows = index_select(x, 0, idx);
  CHECK(rows.shape() == Shape{3, 4});
  CHECK(rows.at({0, 1}) == 9.0);
  CHECK(rows.at({1, 3}) == 3.0);
  CHECK(index_select(x, 1, idx).at({1, 0}) == 6.0);
  const Tensor added = index_add(Tensor::zeros({3, 4}, DType::f64), 0, idx, Tensor::ones({3, 4}, DType::f64));
  CHECK(added.at({2, 0}) == 2.0);
  CHECK(added.at({1, 0}) == 0.0);
  const Tensor gidx = Tensor::from_vector<std::int64_t>({3, 0, 1, 1, 2, 2}, {3, 2});
  const Tensor g = gather(x, 1, gidx);
  CHECK(g.to_vector<double>() == std::vector<double>{3, 0, 5, 5, 10, 10});
  const Tensor s = scatter_add(Tensor::zeros({3, 4}, DType::f64), 1, gidx, g);
  CHECK(s.at({1, 1}) == 10.0);
  CHECK(s.at({2, 2}) == 20.0);
  CHECK(one_hot(Tensor::from_vector<std::int64_t>({1, 0}), 3).to_vector<float>() ==
        std::vector<float>{0, 1, 0, 1, 0, 0});
  CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor::from_vector<std::int64_t>({3})),
                       doctest::Contains("index 3 at position 0 is out of range [0, 3)"), ShapeError);
  CHECK_THROWS_WITH_AS(index_select(x, 0, Tensor::from_vector<double>({0})), doctest::Contains("must be i64"), DTypeError);
  CHECK_THROWS_AS(gather(x, 1, Tensor::zeros({2, 2}, DType::i64)), ShapeError);
}

TEST_CASE("joining: cat and stack along every axis") {
  const Tensor a = Tensor::arange(6, DType::f64).reshape({2, 3});
  const Tensor b = add(Tensor::arange(4, DType::f64).reshape({2, 2}), 100.0);
  const Tensor c1 = cat({a, b}, 1);
  CHECK(c1.shape() == Shape{2, 5});
  CHECK(c1.to_vector<double>() == std::vector<double>{0, 1, 2, 100, 101, 3, 4, 5, 102, 103});
  const Tensor c0 = cat({a, a}, 0);
  CHECK(c0.at({3, 2}) == 5.0);
  const Tensor s = stack({a, a}, -1);
  CHECK(s.shape() == Shape{2, 3, 2});
  CHECK(s.at({1, 2, 1}) == 5.0);
  CHECK_THROWS_WITH_AS(cat({a, b}, 0), doctest::Contains("incompatible"), ShapeError);
  CHECK_THROWS_AS(stack({a, b}, 0), ShapeError);
}

TEST_CASE("elementwise: broadcast over long coalesced rows matches the naive result") {
  // [2, 70000] + [1, 1]: one long row per batch entry after coalescing, split over threads.
  Generator gen(12);
  const Tensor a = Tensor::randn({2, 70000}, gen, DType::f64);
  const Tensor b = Tensor::from_vector<double>({0.5}, {1, 1});
  check_allclose(add(a, b), naive_binary(a, b, std::plus<>()), 0, 0);
  // per-channel operand [3, 1, 1] over [2, 3, 40, 50]: rows of 2000 after coalescing H and W
  const Tensor x = Tensor::randn({2, 3, 40, 50}, gen, DType::f64);
  const Tensor c = Tensor::randn({3, 1, 1}, gen, DType::f64);
  check_allclose(mul(x, c), naive_binary(x, c, std::multiplies<>()), 0, 0);
  check_allclose(sub(c, x), naive_binary(c, x, std::minus<>()), 0, 0);
}
