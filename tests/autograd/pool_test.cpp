// autograd pooling: f64 gradcheck of max_pool2d (distinct inputs, so no ties), avg_pool2d and
// adaptive_avg_pool2d over padding / ceil_mode / count_include_pad variants; adaptive pooling
// against PyTorch's window rule; named errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/error.h"
#include "core/tensor.h"
#include "tests/support/allclose.h"

namespace selfsup::autograd {
namespace {

using core::Generator;

/// Distinct values at least 0.05 apart, scrambled: finite differences never cross a tie.
Tensor distinct_values(const Shape& shape) {
  const std::int64_t n = core::numel(shape);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[i] = static_cast<double>((i * 7919) % n) * 0.05 - 1.0;
  return Tensor::from_vector(v, shape);
}

struct PoolCase {
  std::string name;
  Shape x;
  std::int64_t kernel, stride, padding;
  bool ceil_mode;
};

std::vector<PoolCase> pool_cases() {
  return {
      {"kernel 2 stride 2", {2, 3, 5, 7}, 2, 2, 0, false},
      {"kernel 3 stride 2 padding 1", {2, 3, 5, 7}, 3, 2, 1, false},
      {"kernel 3 stride 2 ceil_mode", {2, 3, 5, 7}, 3, 2, 0, true},
      {"kernel 2 stride 2 padding 1 ceil_mode", {1, 2, 6, 6}, 2, 2, 1, true},
      {"kernel 3 stride 1 overlapping", {1, 2, 4, 5}, 3, 1, 1, false},
  };
}

TEST_CASE("max_pool2d: gradient matches finite differences (f64)") {
  for (const PoolCase& c : pool_cases()) {
    SUBCASE(c.name.c_str()) {
      const GradcheckReport report = gradcheck(
          [c](const std::vector<Variable>& in) {
            return max_pool2d(in[0], c.kernel, c.stride, c.padding, c.ceil_mode);
          },
          {distinct_values(c.x)});
      CHECK_MESSAGE(report.ok, c.name << ": " << report.to_string());
    }
  }
}

TEST_CASE("avg_pool2d: gradient matches finite differences (f64)") {
  for (bool include_pad : {true, false}) {
    for (const PoolCase& c : pool_cases()) {
      const std::string label = c.name + (include_pad ? " count_include_pad" : " exclude pad");
      SUBCASE(label.c_str()) {
        Generator gen(31);
        const GradcheckReport report = gradcheck(
            [c, include_pad](const std::vector<Variable>& in) {
              return avg_pool2d(in[0], c.kernel, c.stride, c.padding, c.ceil_mode, include_pad);
            },
            {Tensor::randn(c.x, gen, DType::f64)});
        CHECK_MESSAGE(report.ok, label << ": " << report.to_string());
      }
    }
  }
}

/// PyTorch's adaptive window rule, as plain loops.
Tensor adaptive_reference(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  const std::int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  std::vector<double> y;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < out_h; ++i)
        for (std::int64_t j = 0; j < out_w; ++j) {
          const auto h0 = static_cast<std::int64_t>(std::floor(static_cast<double>(i * H) / out_h));
          const auto h1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((i + 1) * H) / out_h));
          const auto w0 = static_cast<std::int64_t>(std::floor(static_cast<double>(j * W) / out_w));
          const auto w1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((j + 1) * W) / out_w));
          double sum = 0;
          for (std::int64_t h = h0; h < h1; ++h)
            for (std::int64_t w = w0; w < w1; ++w) sum += x.at({n, c, h, w});
          y.push_back(sum / static_cast<double>((h1 - h0) * (w1 - w0)));
        }
  return Tensor::from_vector(y, {N, C, out_h, out_w});
}

TEST_CASE("adaptive_avg_pool2d: windows follow PyTorch's floor and ceil rule") {
  Generator gen(32);
  const Tensor x = Tensor::randn({2, 3, 5, 7}, gen, DType::f64);
  for (auto [oh, ow] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {5, 7}, {2, 3}, {3, 4}, {4, 7}}) {
    const std::string label = std::to_string(oh) + "x" + std::to_string(ow);
    SUBCASE(label.c_str()) {
      test::check_allclose(adaptive_avg_pool2d(Variable(x), oh, ow).data(), adaptive_reference(x, oh, ow), 1e-12,
                           1e-12, "adaptive_avg_pool2d " + label);
    }
  }
}

TEST_CASE("adaptive_avg_pool2d: gradient matches finite differences (f64)") {
  Generator gen(33);
  for (auto [oh, ow] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {2, 2}, {3, 4}}) {
    const std::string label = std::to_string(oh) + "x" + std::to_string(ow);
    SUBCASE(label.c_str()) {
      const GradcheckReport report = gradcheck(
          [oh, ow](const std::vector<Variable>& in) { return adaptive_avg_pool2d(in[0], oh, ow); },
          {Tensor::randn({2, 2, 4, 6}, gen, DType::f64)});
      CHECK_MESSAGE(report.ok, label << ": " << report.to_string());
    }
  }
}

TEST_CASE("max_pool2d: gradient goes only to the window maxima") {
  Variable x(distinct_values({1, 1, 4, 4}), true);
  sum(max_pool2d(x, 2, 2)).backward();
  const auto g = x.grad().to_vector<double>();
  CHECK(std::count(g.begin(), g.end(), 1.0) == 4);
  CHECK(std::count(g.begin(), g.end(), 0.0) == 12);
}

TEST_CASE("pooling: invalid arguments throw named errors") {
  Generator gen(34);
  const Variable x(Tensor::randn({1, 2, 5, 5}, gen, DType::f64));
  CHECK_THROWS_WITH_AS(max_pool2d(x, 2, 2, 2), doctest::Contains("max_pool2d"), core::ValueError);
  CHECK_THROWS_WITH_AS(avg_pool2d(x, 3, 0), doctest::Contains("avg_pool2d"), core::ValueError);
  CHECK_THROWS_WITH_AS(max_pool2d(Variable(Tensor::randn({2, 5, 5}, gen, DType::f64)), 2, 2),
                       doctest::Contains("[2, 5, 5]"), core::ShapeError);
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d(x, 0, 1), doctest::Contains("adaptive_avg_pool2d"), core::ValueError);
  CHECK_THROWS_AS(avg_pool2d(x, 7, 1), core::ShapeError);
}

}  // namespace
}  // namespace selfsup::autograd
