// Batch-norm primitives (core/cpu/batch_norm.cpp) against the naive loops in
// tests/support/reference.h: forward output and saved statistics, and all three gradients, for
// x [N, C] and [N, C, H, W], with and without affine parameters, in f64 and f32; plus thread-count
// independence and precision with a large mean.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/cpu/cpu_backend.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/reference.h"

namespace selfsup::core {
namespace {

struct BnCase {
  std::string name;
  Shape x;
  bool affine;
};

std::vector<BnCase> bn_cases() {
  return {
      {"NCHW affine", {2, 3, 5, 7}, true},
      {"NCHW without affine", {2, 3, 5, 7}, false},
      {"NC affine", {5, 3}, true},
      {"NC without affine", {7, 4}, false},
      {"NC with more than one channel block", {6, 150}, true},
      {"batch 1 NCHW", {1, 4, 3, 3}, true},
      {"NCHW with a plane that is not a multiple of 8", {3, 2, 3, 5}, true},
  };
}

void check_bn_case(const BnCase& c, DType dtype) {
  const double eps = 1e-5;
  const double rtol = dtype == DType::f64 ? 1e-10 : 1e-4, atol = dtype == DType::f64 ? 1e-10 : 1e-5;
  Generator gen(17);
  const Tensor x = Tensor::randn(c.x, gen, dtype, 0.5, 2.0);
  const Tensor w = c.affine ? Tensor::randn({c.x[1]}, gen, dtype) : Tensor();
  const Tensor b = c.affine ? Tensor::randn({c.x[1]}, gen, dtype) : Tensor();
  const BatchNormTrainResult r = batch_norm_forward_train(x, w, b, eps);
  const auto ref = test::reference::batch_norm_forward_train(x, w, b, eps);
  test::check_allclose(r.out, ref.out, rtol, atol, c.name + " out");
  test::check_allclose(r.save_mean, ref.mean, rtol, atol, c.name + " save_mean");
  test::check_allclose(r.save_invstd, ref.invstd, rtol, atol, c.name + " save_invstd");

  const Tensor dy = Tensor::randn(c.x, gen, dtype);
  const BatchNormGrads g = batch_norm_backward(dy, x, w, r.save_mean, r.save_invstd, true);
  const auto gref = test::reference::batch_norm_backward(dy, x, w, eps);
  test::check_allclose(g.grad_input, gref.grad_input, rtol, atol * 10, c.name + " grad_input");
  test::check_allclose(g.grad_weight, gref.grad_weight, rtol, atol * 10, c.name + " grad_weight");
  test::check_allclose(g.grad_bias, gref.grad_bias, rtol, atol * 10, c.name + " grad_bias");
}

TEST_CASE("batch_norm: training forward and backward match the naive loops (f64)") {
  for (const BnCase& c : bn_cases()) {
    SUBCASE(c.name.c_str()) { check_bn_case(c, DType::f64); }
  }
}

TEST_CASE("batch_norm: training forward and backward match the naive loops (f32)") {
  for (const BnCase& c : bn_cases()) {
    SUBCASE(c.name.c_str()) { check_bn_case(c, DType::f32); }
  }
}

TEST_CASE("batch_norm: output has zero mean and unit variance per channel") {
  Generator gen(2);
  const Tensor x = Tensor::randn({4, 3, 5, 7}, gen, DType::f64, -3.0, 5.0);
  const BatchNormTrainResult r = batch_norm_forward_train(x, Tensor(), Tensor(), 0.0);
  const Tensor m = mean(r.out, {0, 2, 3});
  const Tensor v = mean(square(r.out), {0, 2, 3});
  for (double value : m.to_vector<double>()) CHECK(std::abs(value) < 1e-12);
  for (double value : v.to_vector<double>()) CHECK(value == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("batch_norm: gradients are skipped when their outputs are undefined") {
  Generator gen(4);
  const Tensor x = Tensor::randn({3, 2, 4, 4}, gen, DType::f64);
  const Tensor dy = Tensor::randn({3, 2, 4, 4}, gen, DType::f64);
  const BatchNormTrainResult r = batch_norm_forward_train(x, Tensor(), Tensor(), 1e-5);
  const BatchNormGrads g = batch_norm_backward(dy, x, Tensor(), r.save_mean, r.save_invstd, false);
  CHECK_FALSE(g.grad_weight.defined());
  CHECK_FALSE(g.grad_bias.defined());
  test::check_allclose(g.grad_input, test::reference::batch_norm_backward(dy, x, Tensor(), 1e-5).grad_input,
                       1e-10, 1e-10, "grad_input");
}

TEST_CASE("batch_norm: results are bitwise identical for any thread count") {
  Generator gen(9);
  // large enough (>= 32k values) that two and three threads really split the channels
  for (const Shape& shape : {Shape{8, 5, 30, 31}, Shape{300, 130}}) {
    const Tensor x = Tensor::randn(shape, gen, DType::f32, 1.0, 3.0);
    const Tensor w = Tensor::randn({shape[1]}, gen, DType::f32);
    const Tensor b = Tensor::randn({shape[1]}, gen, DType::f32);
    const Tensor dy = Tensor::randn(shape, gen, DType::f32);
    const int before = get_num_threads();
    std::vector<std::vector<float>> runs;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      const BatchNormTrainResult r = batch_norm_forward_train(x, w, b, 1e-5);
      const BatchNormGrads g = batch_norm_backward(dy, x, w, r.save_mean, r.save_invstd, true);
      std::vector<float> all = r.out.to_vector<float>();
      for (const Tensor* t : {&r.save_mean, &r.save_invstd, &g.grad_input, &g.grad_weight, &g.grad_bias}) {
        const auto v = t->to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
      }
      runs.push_back(all);
    }
    set_num_threads(before);
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0] == runs[2]);
  }
}

TEST_CASE("batch_norm: f32 stays accurate when the mean is far larger than the spread") {
  Generator gen(13);
  const Tensor x64 = Tensor::randn({16, 3, 6, 6}, gen, DType::f64, 1000.0, 0.5);
  const Tensor x = x64.to(DType::f32);
  const BatchNormTrainResult r = batch_norm_forward_train(x, Tensor(), Tensor(), 1e-5);
  // Reference from the same f32 values in double: the error is set by rounding x to f32 once.
  const auto ref = test::reference::batch_norm_forward_train(x, Tensor(), Tensor(), 1e-5);
  test::check_allclose(r.out, ref.out, 1e-3, 1e-3, "out");
  test::check_allclose(r.save_invstd, ref.invstd, 1e-5, 0.0, "save_invstd");
}

}  // namespace
}  // namespace selfsup::core
