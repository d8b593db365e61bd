// Internal to core/cpu/conv2d*.cpp: the geometry of one convolution call and the depthwise
// kernels (core/cpu/conv2d_depthwise.cpp) that conv2d.cpp dispatches to.
// Letters: x [N, C, H, W], weight [K, C/G, R, S], out [N, K, P, Q], G groups.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/backend.h"

namespace selfsup::core::cpu::conv2d_internal {

using Index = std::int64_t;

// Loops below this many elements stay single-threaded (thread start-up would dominate).
constexpr Index kParallelMin = Index{1} << 15;

struct ConvGeom {
  Index N, C, H, W;  // input
  Index K, R, S;     // weight
  Index P, Q;        // output spatial
  Index G, Cg, Kg;   // groups, input / output channels per group
  Index sh, sw, ph, pw, dh, dw;
  // Offset table of im2col / col2im for narrow maps (see conv2d.cpp tap_offsets), else null.
  const std::int32_t* taps = nullptr;
  Index HW() const { return H * W; }
  Index PQ() const { return P * Q; }
  Index CRS() const { return Cg * R * S; }  // rows of one group's column matrix
  bool depthwise() const { return Cg == 1 && G > 1; }
  // 1x1, stride 1, no padding: the column matrix of one image is the image itself.
  bool pointwise() const { return R == 1 && S == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

inline ConvGeom make_geom(const Shape& x, const Shape& weight, const Shape& out, const Conv2dParams& p) {
  ConvGeom g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.K = weight[0], g.R = weight[2], g.S = weight[3];
  g.P = out[2], g.Q = out[3];
  g.G = p.groups, g.Cg = weight[1], g.Kg = g.K / p.groups;
  g.sh = p.stride_h, g.sw = p.stride_w, g.ph = p.pad_h, g.pw = p.pad_w;
  g.dh = p.dilation_h, g.dw = p.dilation_w;
  return g;
}

inline Index floor_div(Index a, Index b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Output columns q whose input column q*stride - pad + offset lies in [0, width): [lo, hi).
struct ColRange {
  Index lo, hi;
};
inline ColRange valid_cols(Index offset, Index pad, Index stride, Index width, Index count) {
  // q*stride >= pad - offset  and  q*stride <= width - 1 + pad - offset
  const Index lo = std::max<Index>(0, -floor_div(offset - pad, stride));
  const Index hi = std::min<Index>(count, floor_div(width - 1 + pad - offset, stride) + 1);
  return {lo, std::max(lo, hi)};
}

// Depthwise (Cg == 1): output channel k reads input channel k / Kg. Same contracts as the
// backend's conv2d_* (outputs overwritten). Instantiated for float and double.
template <typename T>
void depthwise_forward(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out);
template <typename T>
void depthwise_backward_input(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x);
template <typename T>
void depthwise_backward_weight(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w);

}  // namespace selfsup::core::cpu::conv2d_internal
