// Pooling primitives (core/cpu/pool2d.cpp) against the naive loops in tests/support/reference.h:
// max pool values, indices and gradient; avg pool with and without count_include_pad; padding,
// ceil_mode and non-square windows; f64 and f32. Max-pool inputs hold distinct values so the
// argmax is unique.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/ops.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"
#include "tests/support/reference.h"

namespace selfsup::core {
namespace {

struct PoolCase {
  std::string name;
  Shape x;
  Pool2dParams p;
};

Pool2dParams pool(std::int64_t kernel, std::int64_t stride, std::int64_t pad, bool ceil_mode = false) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.ceil_mode = ceil_mode;
  return p;
}

std::vector<PoolCase> pool_cases() {
  Pool2dParams rect;
  rect.kernel_h = 2, rect.kernel_w = 3, rect.stride_h = 1, rect.stride_w = 2;
  rect.pad_h = 1, rect.pad_w = 1;
  return {
      {"kernel 2 stride 2", {2, 3, 5, 7}, pool(2, 2, 0)},
      {"kernel 3 stride 2 padding 1", {2, 3, 5, 7}, pool(3, 2, 1)},
      {"kernel 3 stride 2 ceil_mode", {2, 3, 5, 7}, pool(3, 2, 0, true)},
      {"kernel 2 stride 2 padding 1 ceil_mode", {2, 3, 5, 7}, pool(2, 2, 1, true)},
      {"kernel 3 stride 1 padding 1", {1, 2, 4, 6}, pool(3, 1, 1)},
      {"kernel 2x3 stride 1x2 padding 1", {2, 3, 5, 7}, rect},
      {"global window", {2, 3, 5, 7}, []{ Pool2dParams p; p.kernel_h = 5; p.kernel_w = 7; p.stride_h = 5; p.stride_w = 7; return p; }()},
  };
}

/// Distinct values in a scrambled order: v_i = ((i * 7919) mod n) / 8 - n / 16.
Tensor distinct_values(const Shape& shape, DType dtype) {
  const std::int64_t n = numel(shape);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 7919) % n) / 8.0 - n / 16.0;
  return Tensor::from_vector(v, shape).to(dtype);
}

double rtol_for(DType dtype) { return dtype == DType::f64 ? 1e-12 : 1e-6; }

TEST_CASE("max_pool2d: values indices and gradient match the naive loop") {
  for (DType dtype : {DType::f64, DType::f32}) {
    for (const PoolCase& c : pool_cases()) {
      SUBCASE((c.name + " " + name(dtype)).c_str()) {
        const Tensor x = distinct_values(c.x, dtype);
        const auto [y, indices] = max_pool2d_forward(x, c.p);
        const auto [y_ref, indices_ref] = test::reference::max_pool2d_forward(x, c.p);
        CHECK(indices.dtype() == DType::i64);
        test::check_allclose(y, y_ref, 0.0, 0.0, c.name + " values");
        test::check_allclose(indices, indices_ref, 0.0, 0.0, c.name + " indices");
        Generator gen(7);
        const Tensor dy = Tensor::randn(y.shape(), gen, dtype);
        test::check_allclose(max_pool2d_backward(dy, indices, x.shape()),
                             test::reference::max_pool2d_backward(dy, indices_ref, x.shape()),
                             rtol_for(dtype), 0.0, c.name + " grad_input");
      }
    }
  }
}

TEST_CASE("max_pool2d: padding never wins over negative inputs") {
  // All inputs are negative: PyTorch pads with -inf, so no output may be 0.
  const Tensor x = distinct_values({1, 1, 4, 4}, DType::f64) - 100.0;
  const auto [y, indices] = max_pool2d_forward(x, pool(3, 2, 1));
  for (double v : y.to_vector<double>()) CHECK(v < -90.0);
  for (std::int64_t i : indices.to_vector<std::int64_t>()) CHECK((i >= 0 && i < 16));
}

TEST_CASE("max_pool2d: a NaN in the window propagates like PyTorch") {
  std::vector<double> v(16, 1.0);
  v[5] = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = Tensor::from_vector(v, {1, 1, 4, 4});
  const auto [y, indices] = max_pool2d_forward(x, pool(2, 2, 0));
  CHECK(std::isnan(y.at({0, 0, 0, 0})));
  CHECK(indices.at({0, 0, 0, 0}) == 5.0);
  CHECK(y.at({0, 0, 1, 1}) == 1.0);
}

TEST_CASE("avg_pool2d: forward and gradient match the naive loop") {
  for (DType dtype : {DType::f64, DType::f32}) {
    for (bool include_pad : {true, false}) {
      for (PoolCase c : pool_cases()) {
        c.p.count_include_pad = include_pad;
        const std::string label = c.name + (include_pad ? " count_include_pad " : " exclude pad ") + name(dtype);
        SUBCASE(label.c_str()) {
          Generator gen(11);
          const Tensor x = Tensor::randn(c.x, gen, dtype);
          const Tensor y = avg_pool2d_forward(x, c.p);
          test::check_allclose(y, test::reference::avg_pool2d_forward(x, c.p), rtol_for(dtype) * 10, 1e-6,
                               label + " forward");
          const Tensor dy = Tensor::randn(y.shape(), gen, dtype);
          test::check_allclose(avg_pool2d_backward(dy, c.p, x.shape()),
                               test::reference::avg_pool2d_backward(dy, c.p, x.shape()), rtol_for(dtype) * 10,
                               1e-6, label + " grad_input");
        }
      }
    }
  }
}

TEST_CASE("avg_pool2d: ceil_mode window past the padding uses PyTorch's divisor") {
  // H = W = 6, kernel 3, stride 2, padding 1, ceil_mode: windows start at -1, 1, 3, 5. The last
  // one (rows 5..7) is clipped to the padded input (rows 5..6) for the divisor, so with
  // count_include_pad its divisor is 2 x 2 = 4, not 9; the first window's is 3 x 3 = 9.
  const Tensor x = Tensor::ones({1, 1, 6, 6}, DType::f64);
  Pool2dParams p = pool(3, 2, 1, true);
  const Tensor y = avg_pool2d_forward(x, p);
  REQUIRE(y.shape() == Shape{1, 1, 4, 4});
  CHECK(y.at({0, 0, 0, 0}) == doctest::Approx(4.0 / 9.0));
  CHECK(y.at({0, 0, 1, 1}) == doctest::Approx(1.0));
  CHECK(y.at({0, 0, 3, 3}) == doctest::Approx(1.0 / 4.0));
  CHECK(y.at({0, 0, 3, 1}) == doctest::Approx(3.0 / 6.0));
  p.count_include_pad = false;
  const Tensor y_excl = avg_pool2d_forward(x, p);
  CHECK(y_excl.at({0, 0, 0, 0}) == doctest::Approx(1.0));
  CHECK(y_excl.at({0, 0, 3, 3}) == doctest::Approx(1.0));
}

}  // namespace
}  // namespace selfsup::core
