// autograd conv2d: f64 finite-difference gradcheck of x, weight and bias over the edge-case
// shapes of tests/core/conv2d_test.cpp, agreement of the two overloads, and named errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/error.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/conv_cases.h"

namespace selfsup::autograd {
namespace {

using test::ConvCase;
using test::conv_params;

using core::Conv2dParams;
using core::Generator;

std::vector<ConvCase> gradcheck_cases() {
  const Conv2dParams mixed = test::mixed_conv_params();
  return {
      {"3x3 stride 1 padding 1", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 1)},
      {"3x3 stride 2 padding 1", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(2, 1)},
      {"3x3 dilation 2", {2, 3, 5, 7}, {2, 3, 3, 3}, conv_params(1, 2, 2)},
      {"per-axis stride padding dilation", {2, 3, 6, 7}, {2, 3, 2, 3}, mixed},
      {"groups 3", {2, 6, 5, 7}, {6, 2, 3, 3}, conv_params(1, 1, 1, 3)},
      {"depthwise", {2, 3, 5, 7}, {3, 1, 3, 3}, conv_params(1, 1, 1, 3)},
      {"depthwise stride 2 multiplier 2", {2, 3, 5, 7}, {6, 1, 3, 3}, conv_params(2, 1, 1, 3)},
      {"batch 1 without bias", {1, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 1), false},
      {"1x1", {2, 3, 5, 7}, {4, 3, 1, 1}, conv_params(1, 0)},
      {"1x1 stride 2", {2, 3, 5, 7}, {4, 3, 1, 1}, conv_params(2, 0)},
      {"several images per tile", {12, 2, 3, 3}, {3, 2, 3, 3}, conv_params(1, 1)},
      {"16 channels through winograd", {2, 16, 4, 5}, {16, 16, 3, 3}, conv_params(1, 1), false},
  };
}

TEST_CASE("conv2d: gradient matches finite differences (f64)") {
  for (const ConvCase& c : gradcheck_cases()) {
    SUBCASE(c.name.c_str()) {
      Generator gen(21);
      std::vector<Tensor> inputs{Tensor::randn(c.x, gen, DType::f64), Tensor::randn(c.w, gen, DType::f64)};
      if (c.bias) inputs.push_back(Tensor::randn({c.w[0]}, gen, DType::f64));
      const Conv2dParams p = c.p;
      const GradcheckReport report = gradcheck(
          [p](const std::vector<Variable>& in) {
            return conv2d(in[0], in[1], in.size() > 2 ? in[2] : Variable(), p);
          },
          inputs);
      CHECK_MESSAGE(report.ok, c.name << ": " << report.to_string());
    }
  }
}

TEST_CASE("conv2d: the options overload equals the params overload") {
  Generator gen(22);
  const Variable x(Tensor::randn({2, 4, 6, 5}, gen, DType::f64));
  const Variable w(Tensor::randn({4, 2, 3, 3}, gen, DType::f64));
  const Variable b(Tensor::randn({4}, gen, DType::f64));
  const Variable a = conv2d(x, w, b, Conv2dOptions{.stride = 2, .padding = 1, .dilation = 1, .groups = 2});
  const Variable e = conv2d(x, w, b, conv_params(2, 1, 1, 2));
  test::check_allclose(a.data(), e.data(), 0.0, 0.0, "conv2d options vs params");
}

TEST_CASE("conv2d: gradients of a second use accumulate") {
  // y = conv(x, w) used twice: d(sum(y) + sum(y))/dw = 2 d(sum(y))/dw.
  Generator gen(23);
  Variable x(Tensor::randn({2, 3, 4, 4}, gen, DType::f64), true);
  Variable w(Tensor::randn({2, 3, 3, 3}, gen, DType::f64), true);
  const Variable y = conv2d(x, w, {}, Conv2dOptions{.padding = 1});
  sum(y).backward();
  const Tensor once = w.grad().clone();
  w.zero_grad();
  x.zero_grad();
  const Variable y2 = conv2d(x, w, {}, Conv2dOptions{.padding = 1});
  (sum(y2) + sum(y2)).backward();
  test::check_allclose(w.grad(), once * 2.0, 1e-12, 1e-12, "grad.weight");
}

TEST_CASE("conv2d: mismatched channels throw a ShapeError naming both shapes") {
  Generator gen(24);
  const Variable x(Tensor::randn({2, 3, 5, 5}, gen, DType::f64));
  const Variable w(Tensor::randn({4, 2, 3, 3}, gen, DType::f64));
  try {
    conv2d(x, w);
    FAIL("conv2d accepted 3 input channels for a weight expecting 2");
  } catch (const core::ShapeError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("conv2d") != std::string::npos);
    CHECK(msg.find("[2, 3, 5, 5]") != std::string::npos);
    CHECK(msg.find("[4, 2, 3, 3]") != std::string::npos);
  }
  CHECK_THROWS_AS(conv2d(x, Variable(Tensor::randn({4, 3, 3, 3}, gen, DType::f64)),
                         Variable(Tensor::randn({3}, gen, DType::f64))),
                  core::ShapeError);
  CHECK_THROWS_AS(conv2d(x, Variable(Tensor::randn({4, 3, 7, 7}, gen, DType::f64))), core::ShapeError);
  CHECK_THROWS_AS(conv2d(Variable(Tensor::randn({3, 5, 5}, gen, DType::f64)), w), core::ShapeError);
}

}  // namespace
}  // namespace selfsup::autograd
