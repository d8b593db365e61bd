// Conv test cases shared by the primitive tests (tests/core/conv2d_test.cpp) and the autograd
// gradchecks (tests/autograd/conv_test.cpp): a named input/weight shape with its parameters.
#pragma once

#include <cstdint>
#include <string>

#include "core/backend.h"
#include "core/shape.h"

namespace selfsup::test {

struct ConvCase {
  std::string name;
  core::Shape x, w;
  core::Conv2dParams p;
  bool bias = true;
};

/// The same stride, padding and dilation on both axes.
inline core::Conv2dParams conv_params(std::int64_t stride, std::int64_t pad, std::int64_t dilation = 1,
                                      std::int64_t groups = 1) {
  core::Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = pad;
  p.dilation_h = p.dilation_w = dilation;
  p.groups = groups;
  return p;
}

/// Every parameter different per axis: stride 2x1, padding 1x2, dilation 1x2.
inline core::Conv2dParams mixed_conv_params() {
  core::Conv2dParams p;
  p.stride_h = 2, p.stride_w = 1, p.pad_h = 1, p.pad_w = 2;
  p.dilation_h = 1, p.dilation_w = 2;
  return p;
}

}  // namespace selfsup::test
