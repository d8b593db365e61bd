// conv2d primitives (core/cpu/conv2d.cpp) against the naive loops in tests/support/reference.h:
// forward, backward_input and backward_weight over small odd shapes that reach every code path
// (im2col tiles of one and several images, pointwise without im2col, groups, depthwise with and
// without a channel multiplier, stride / padding / dilation per axis), in f64 and f32.
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
#include "tests/support/conv_cases.h"
#include "tests/support/reference.h"

namespace selfsup::core {
namespace {

using test::ConvCase;
using test::conv_params;

std::vector<ConvCase> conv_cases() {
  const Conv2dParams mixed = test::mixed_conv_params();
  return {
      {"3x3 stride 1 padding 1", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 1)},
      {"3x3 stride 2 padding 1", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(2, 1)},
      {"3x3 dilation 2 padding 2", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 2, 2)},
      {"3x3 no padding no bias", {2, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 0), false},
      {"2x3 kernel with per-axis stride padding dilation", {2, 3, 6, 7}, {5, 3, 2, 3}, mixed},
      {"groups 3", {2, 6, 5, 7}, {9, 2, 3, 3}, conv_params(1, 1, 1, 3)},
      {"groups 3 stride 2", {2, 6, 5, 7}, {6, 2, 3, 3}, conv_params(2, 1, 1, 3)},
      {"depthwise", {2, 3, 5, 7}, {3, 1, 3, 3}, conv_params(1, 1, 1, 3)},
      {"depthwise stride 2 dilation 2", {2, 3, 5, 7}, {3, 1, 3, 3}, conv_params(2, 2, 2, 3)},
      {"depthwise with channel multiplier 2", {2, 3, 5, 7}, {6, 1, 3, 3}, conv_params(1, 1, 1, 3)},
      {"depthwise 5x5 stride 2 no bias", {2, 4, 9, 8}, {4, 1, 5, 5}, conv_params(2, 2, 1, 4), false},
      {"batch 1", {1, 3, 5, 7}, {4, 3, 3, 3}, conv_params(1, 1)},
      {"1x1 stride 1 (no im2col)", {2, 3, 5, 7}, {4, 3, 1, 1}, conv_params(1, 0)},
      {"1x1 stride 2", {2, 3, 5, 7}, {4, 3, 1, 1}, conv_params(2, 0)},
      {"1x1 grouped", {2, 4, 5, 7}, {6, 2, 1, 1}, conv_params(1, 0, 1, 2)},
      {"single input channel", {2, 1, 5, 7}, {4, 1, 3, 3}, conv_params(1, 1)},
      // 3x3 maps: several images per GEMM tile (up to ~1k columns), and last tiles that are only
      // partly full, with one thread (tiles in sequence) and with two (tiles split over threads).
      {"tiles of several images with remainder", {41, 5, 3, 3}, {4, 5, 3, 3}, conv_params(1, 1)},
      {"more images than one tile holds", {121, 2, 3, 3}, {3, 2, 3, 3}, conv_params(1, 1)},
      {"tiles of several images with groups", {33, 4, 3, 3}, {6, 2, 3, 3}, conv_params(1, 1, 1, 2)},
      {"pointwise tiles of several images", {71, 3, 2, 2}, {5, 3, 1, 1}, conv_params(1, 0)},
      {"4x4 map through the offset table", {5, 6, 4, 4}, {7, 6, 3, 3}, conv_params(1, 1)},
      {"8x8 map stride 2 through the offset table", {3, 4, 8, 8}, {5, 4, 3, 3}, conv_params(2, 1)},
      {"stride 2 16 outputs wide, one vector chunk (f32), odd rows", {3, 4, 15, 32}, {5, 4, 3, 3}, conv_params(2, 1)},
      {"stride 3 through the offset table", {2, 3, 10, 11}, {4, 3, 3, 3}, conv_params(3, 1)},
      {"stride 2 rows of three vector chunks, padding 2", {2, 2, 5, 70}, {3, 2, 3, 3}, conv_params(2, 2)},
      // stride 1 from 8 outputs wide: masked row copies instead of the table (stride 2 from 9 wide:
      // even-lane copies)
      {"11 wide map masked row copies", {2, 3, 5, 11}, {4, 3, 3, 3}, conv_params(1, 1)},
      {"wide map row copies", {2, 3, 6, 19}, {4, 3, 3, 3}, conv_params(1, 1)},
      {"wide map stride 2 dilation 2", {2, 2, 5, 23}, {3, 2, 3, 3}, conv_params(2, 2, 2)},
      {"wide map per-axis parameters", {2, 3, 7, 20}, {2, 3, 2, 3}, mixed},
      // 3x3 stride 1 with at least 16 channels in and out: Winograd F(2x2, 3x3) for the forward
      // pass and the input gradient (odd maps end in partial tiles; padding 0..2)
      {"winograd padding 1 odd map", {2, 16, 5, 7}, {16, 16, 3, 3}, conv_params(1, 1)},
      {"winograd no padding", {3, 17, 6, 9}, {18, 17, 3, 3}, conv_params(1, 0), false},
      {"winograd padding 2", {5, 16, 4, 4}, {20, 16, 3, 3}, conv_params(1, 2)},
      {"winograd batches of several images, the last one partial", {70, 16, 4, 4}, {16, 16, 3, 3}, conv_params(1, 1)},
      {"winograd 2x2 output", {2, 24, 4, 3}, {16, 24, 3, 3}, conv_params(1, 0)},
      {"winograd 32x32 map, row-vectorised transforms", {2, 16, 32, 32}, {16, 16, 3, 3}, conv_params(1, 1)},
      {"winograd 17x35 map: 18 tiles a row, partial tiles", {2, 16, 17, 35}, {16, 16, 3, 3}, conv_params(1, 1)},
      {"winograd 16x16 map, 8 tiles a row", {3, 16, 16, 16}, {17, 16, 3, 3}, conv_params(1, 1)},
      {"winograd 12x12 map with the weight gradient on im2col", {2, 16, 12, 12}, {16, 16, 3, 3}, conv_params(1, 1)},
      // at least 2M multiply-adds: with two threads these split images over an OpenMP team
      {"threaded im2col", {40, 8, 8, 8}, {16, 8, 3, 3}, conv_params(1, 1)},
      {"threaded im2col stride 2 wide map", {9, 8, 33, 33}, {16, 8, 3, 3}, conv_params(2, 1)},
      {"threaded winograd", {24, 16, 8, 8}, {16, 16, 3, 3}, conv_params(1, 1)},
      {"threaded depthwise wide map", {32, 32, 16, 17}, {32, 1, 3, 3}, conv_params(1, 1, 1, 32)},
      {"threaded depthwise narrow map", {64, 32, 8, 8}, {32, 1, 5, 5}, conv_params(1, 2, 1, 32)},
      // depthwise maps at least 16 wide run row by row instead of through the padded table
      {"depthwise wide map row loops", {2, 3, 5, 20}, {6, 1, 3, 3}, conv_params(1, 1, 1, 3)},
      {"depthwise wide map 5x5 stride 2", {2, 4, 6, 37}, {4, 1, 5, 5}, conv_params(2, 2, 1, 4)},
      {"depthwise wide map dilation 2", {2, 2, 4, 18}, {2, 1, 3, 3}, conv_params(1, 2, 2, 2)},
  };
}

ConvCase case_named(const std::string& name) {
  for (const ConvCase& c : conv_cases()) {
    if (c.name == name) return c;
  }
  FAIL("no conv case named " << name);
  return {};
}

/// Checks actual against the f64 reference: f64 to 1e-10; f32 to rtol 1e-4 plus an atol scaled
/// by the reference's largest magnitude, since an entry that is a long sum of cancelling terms
/// (a weight gradient over thousands of positions) carries the rounding of its largest terms.
void check_against(const Tensor& actual, const Tensor& expected, DType dtype, const std::string& what) {
  if (dtype == DType::f64) return test::check_allclose(actual, expected, 1e-10, 1e-10, what);
  const double scale = max_abs_diff(expected, Tensor::zeros(expected.shape(), expected.dtype()));
  test::check_allclose(actual, expected, 1e-4, 1e-5 + 2e-6 * scale, what);
}

void check_case(const ConvCase& c, DType dtype) {
  Generator gen(42);
  const Tensor x = Tensor::randn(c.x, gen, dtype);
  const Tensor w = Tensor::randn(c.w, gen, dtype);
  const Tensor b = c.bias ? Tensor::randn({c.w[0]}, gen, dtype) : Tensor();

  const Tensor y = conv2d_forward(x, w, b, c.p);
  CHECK(y.dtype() == dtype);
  check_against(y, test::reference::conv2d_forward(x, w, b, c.p), dtype, c.name + " forward");
  const Tensor dy = Tensor::randn(y.shape(), gen, dtype);
  check_against(conv2d_backward_input(dy, w, x.shape(), c.p),
                test::reference::conv2d_backward_input(dy, w, x.shape(), c.p), dtype, c.name + " grad_input");
  check_against(conv2d_backward_weight(dy, x, w.shape(), c.p),
                test::reference::conv2d_backward_weight(dy, x, w.shape(), c.p), dtype, c.name + " grad_weight");
}

/// Runs fn with the CPU backend limited to `threads` threads (1 thread: tiles in sequence with
/// threaded GEMMs; 2: tiles split over an OpenMP team), restoring the count afterwards.
template <typename Fn>
void with_threads(int threads, Fn fn) {
  const int before = get_num_threads();
  set_num_threads(threads);
  try {
    fn();
  } catch (...) {
    set_num_threads(before);
    throw;
  }
  set_num_threads(before);
}

TEST_CASE("conv2d: forward and both backward passes match the naive loops (f64)") {
  for (int threads : {1, 2}) {
    for (const ConvCase& c : conv_cases()) {
      SUBCASE((c.name + " threads " + std::to_string(threads)).c_str()) {
        with_threads(threads, [&] { check_case(c, DType::f64); });
      }
    }
  }
}

TEST_CASE("conv2d: forward and both backward passes match the naive loops (f32)") {
  for (int threads : {1, 2}) {
    for (const ConvCase& c : conv_cases()) {
      SUBCASE((c.name + " threads " + std::to_string(threads)).c_str()) {
        with_threads(threads, [&] { check_case(c, DType::f32); });
      }
    }
  }
}

TEST_CASE("conv2d: output shape follows the PyTorch formula") {
  Generator gen(1);
  const Tensor x = Tensor::randn({2, 3, 5, 7}, gen, DType::f64);
  const Tensor w = Tensor::randn({4, 3, 3, 3}, gen, DType::f64);
  CHECK(conv2d_forward(x, w, Tensor(), conv_params(2, 1)).shape() == Shape{2, 4, 3, 4});
  CHECK(conv2d_forward(x, w, Tensor(), conv_params(1, 2, 2)).shape() == Shape{2, 4, 5, 7});
  CHECK(conv2d_forward(x, w, Tensor(), conv_params(1, 0)).shape() == Shape{2, 4, 3, 5});
}

TEST_CASE("conv2d: backward functions overwrite their outputs") {
  // The backend gets outputs full of NaN; any accumulation into them would show.
  auto& cpu = cpu::cpu_backend();
  for (const char* name :
       {"3x3 stride 2 padding 1", "depthwise", "1x1 stride 1 (no im2col)", "tiles of several images with remainder",
        "4x4 map through the offset table", "11 wide map masked row copies", "wide map stride 2 dilation 2",
        "winograd padding 1 odd map", "threaded im2col", "threaded winograd", "threaded depthwise narrow map",
        "depthwise wide map row loops"}) {
    const ConvCase c = case_named(name);
    SUBCASE(c.name.c_str()) {
      Generator gen(3);
      const Tensor x = Tensor::randn(c.x, gen, DType::f64);
      const Tensor w = Tensor::randn(c.w, gen, DType::f64);
      const Tensor dy = Tensor::randn(test::reference::conv2d_output_shape(c.x, c.w, c.p), gen, DType::f64);
      Tensor grad_x = Tensor::full(c.x, std::numeric_limits<double>::quiet_NaN(), DType::f64);
      Tensor grad_w = Tensor::full(c.w, std::numeric_limits<double>::quiet_NaN(), DType::f64);
      cpu.conv2d_backward_input(dy, w, c.p, grad_x);
      cpu.conv2d_backward_weight(dy, x, c.p, grad_w);
      test::check_allclose(grad_x, test::reference::conv2d_backward_input(dy, w, c.x, c.p), 1e-10, 1e-10,
                           "grad_input");
      test::check_allclose(grad_w, test::reference::conv2d_backward_weight(dy, x, c.w, c.p), 1e-10, 1e-10,
                           "grad_weight");
    }
  }
}

/// Forward and both gradients with one thread (tiles in sequence) and two (an OpenMP team).
void check_threads_agree(const ConvCase& c) {
  Generator gen(5);
  const Tensor x = Tensor::randn(c.x, gen, DType::f32);
  const Tensor w = Tensor::randn(c.w, gen, DType::f32);
  const int before = get_num_threads();
  set_num_threads(1);
  const Tensor y1 = conv2d_forward(x, w, Tensor(), c.p);
  const Tensor dx1 = conv2d_backward_input(y1, w, x.shape(), c.p);
  const Tensor dw1 = conv2d_backward_weight(y1, x, w.shape(), c.p);
  set_num_threads(2);
  const Tensor y2 = conv2d_forward(x, w, Tensor(), c.p);
  const Tensor dx2 = conv2d_backward_input(y2, w, x.shape(), c.p);
  const Tensor dw2 = conv2d_backward_weight(y2, x, w.shape(), c.p);
  set_num_threads(before);
  // f32: the schedules sum in different orders (weight gradient: per-thread partial sums)
  test::check_allclose(y2, y1, 1e-5, 1e-4, c.name + " forward");
  test::check_allclose(dx2, dx1, 1e-5, 1e-4, c.name + " grad_input");
  test::check_allclose(dw2, dw1, 1e-4, 1e-3, c.name + " grad_weight");
}


TEST_CASE("conv2d: one and two threads agree") {
  for (const char* name : {"threaded im2col", "threaded winograd", "threaded depthwise wide map"}) {
    SUBCASE(name) { check_threads_agree(case_named(name)); }
  }
}

}  // namespace
}  // namespace selfsup::core
