// autograd batch_norm: f64 gradcheck in training mode ([N, C] and [N, C, H, W], with and
// without affine parameters) and eval mode; the running-statistics update against values
// computed from the batch by hand; eval output against its formula; named errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"

namespace selfsup::autograd {
namespace {

using core::Generator;

struct BnCase {
  std::string name;
  Shape x;
  bool affine;
};

std::vector<BnCase> bn_cases() {
  return {
      {"NCHW affine", {2, 3, 5, 7}, true},
      {"NCHW without affine", {2, 3, 3, 5}, false},
      {"NC affine", {5, 3}, true},
      {"NC without affine", {4, 6}, false},
      {"batch 1 NCHW", {1, 2, 3, 3}, true},
  };
}

TEST_CASE("batch_norm: training gradient matches finite differences (f64)") {
  for (const BnCase& c : bn_cases()) {
    SUBCASE(c.name.c_str()) {
      Generator gen(41);
      std::vector<Tensor> inputs{Tensor::randn(c.x, gen, DType::f64, 0.3, 1.5)};
      if (c.affine) {
        inputs.push_back(Tensor::randn({c.x[1]}, gen, DType::f64, 1.0, 0.5));
        inputs.push_back(Tensor::randn({c.x[1]}, gen, DType::f64));
      }
      const GradcheckReport report = gradcheck(
          [](const std::vector<Variable>& in) {
            return batch_norm(in[0], in.size() > 1 ? in[1] : Variable(), in.size() > 2 ? in[2] : Variable(),
                              Tensor(), Tensor(), /*training=*/true);
          },
          inputs);
      CHECK_MESSAGE(report.ok, c.name << ": " << report.to_string());
    }
  }
}

TEST_CASE("batch_norm: eval gradient matches finite differences (f64)") {
  Generator gen(42);
  const Tensor running_mean = Tensor::randn({3}, gen, DType::f64);
  const Tensor running_var = Tensor::rand({3}, gen, DType::f64, 0.5, 2.0);
  for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{4, 3}}) {
    SUBCASE(core::to_string(shape).c_str()) {
      const GradcheckReport report = gradcheck(
          [&](const std::vector<Variable>& in) {
            return batch_norm(in[0], in[1], in[2], running_mean, running_var, /*training=*/false);
          },
          {Tensor::randn(shape, gen, DType::f64), Tensor::randn({3}, gen, DType::f64),
           Tensor::randn({3}, gen, DType::f64)});
      CHECK_MESSAGE(report.ok, report.to_string());
    }
  }
}

TEST_CASE("batch_norm: training updates running statistics with momentum and unbiased variance") {
  Generator gen(43);
  const Tensor x = Tensor::randn({4, 3, 2, 5}, gen, DType::f64, 2.0, 3.0);
  Tensor running_mean = Tensor::full({3}, 0.5, DType::f64);
  Tensor running_var = Tensor::full({3}, 2.0, DType::f64);
  const double momentum = 0.25;
  batch_norm(Variable(x), {}, {}, running_mean, running_var, /*training=*/true, momentum, 1e-5);
  for (std::int64_t c = 0; c < 3; ++c) {
    std::vector<double> values;
    for (std::int64_t n = 0; n < 4; ++n)
      for (std::int64_t h = 0; h < 2; ++h)
        for (std::int64_t w = 0; w < 5; ++w) values.push_back(x.at({n, c, h, w}));
    double mean = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    const double unbiased = ss / static_cast<double>(values.size() - 1);
    CHECK(running_mean.at({c}) == doctest::Approx(0.75 * 0.5 + 0.25 * mean).epsilon(1e-12));
    CHECK(running_var.at({c}) == doctest::Approx(0.75 * 2.0 + 0.25 * unbiased).epsilon(1e-9));
  }
}

TEST_CASE("batch_norm: f32 running statistics follow an f32 batch") {
  Generator gen(44);
  const Tensor x = Tensor::randn({16, 2}, gen, DType::f32, -1.0, 2.0);
  Tensor running_mean = Tensor::zeros({2}, DType::f32);
  Tensor running_var = Tensor::ones({2}, DType::f32);
  batch_norm(Variable(x), {}, {}, running_mean, running_var, true);
  const Tensor x64 = x.to(DType::f64);
  const Tensor mean = core::mean(x64, {0});
  const Tensor var = core::sum(core::square(x64 - mean), {0}) / 15.0;
  test::check_allclose(running_mean, mean * 0.1, 1e-5, 1e-6, "running_mean");
  test::check_allclose(running_var, var * 0.1 + 0.9, 1e-4, 1e-5, "running_var");
}

TEST_CASE("batch_norm: eval mode uses the running statistics and leaves them unchanged") {
  Generator gen(45);
  const Tensor x = Tensor::randn({3, 2, 2, 2}, gen, DType::f64);
  const Tensor weight = Tensor::from_vector(std::vector<double>{2.0, -1.0});
  const Tensor bias = Tensor::from_vector(std::vector<double>{0.5, 1.0});
  Tensor running_mean = Tensor::from_vector(std::vector<double>{0.1, -0.2});
  Tensor running_var = Tensor::from_vector(std::vector<double>{4.0, 0.25});
  const double eps = 1e-3;
  const Variable y = batch_norm(Variable(x), Variable(weight), Variable(bias), running_mean, running_var,
                                /*training=*/false, 0.1, eps);
  for (std::int64_t n = 0; n < 3; ++n)
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t h = 0; h < 2; ++h)
        for (std::int64_t w = 0; w < 2; ++w) {
          const double expected = (x.at({n, c, h, w}) - running_mean.at({c})) /
                                      std::sqrt(running_var.at({c}) + eps) * weight.at({c}) +
                                  bias.at({c});
          CHECK(y.data().at({n, c, h, w}) == doctest::Approx(expected).epsilon(1e-12));
        }
  CHECK(running_mean.at({0}) == 0.1);
  CHECK(running_var.at({1}) == 0.25);
}

TEST_CASE("batch_norm: training output is normalised per channel") {
  Generator gen(46);
  const Variable y = batch_norm(Variable(Tensor::randn({6, 4, 3, 3}, gen, DType::f64, 5.0, 2.0)), {}, {},
                                Tensor(), Tensor(), true, 0.1, 0.0);
  for (double m : core::mean(y.data(), {0, 2, 3}).to_vector<double>()) CHECK(std::abs(m) < 1e-12);
  for (double v : core::mean(core::square(y.data()), {0, 2, 3}).to_vector<double>())
    CHECK(v == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("batch_norm: invalid arguments throw named errors") {
  Generator gen(47);
  const Variable x(Tensor::randn({4, 3, 2, 2}, gen, DType::f64));
  CHECK_THROWS_WITH_AS(batch_norm(x, Variable(Tensor::ones({4}, DType::f64)), {}, Tensor(), Tensor(), true),
                       doctest::Contains("weight"), core::ShapeError);
  CHECK_THROWS_WITH_AS(batch_norm(x, {}, {}, Tensor(), Tensor(), false), doctest::Contains("eval"),
                       core::ValueError);
  CHECK_THROWS_WITH_AS(batch_norm(Variable(Tensor::randn({1, 3}, gen, DType::f64)), {}, {}, Tensor(), Tensor(), true),
                       doctest::Contains("more than 1 value per channel"), core::ValueError);
  CHECK_THROWS_AS(batch_norm(Variable(Tensor::randn({4}, gen, DType::f64)), {}, {}, Tensor(), Tensor(), true),
                  core::ShapeError);
}

}  // namespace
}  // namespace selfsup::autograd
