// Naive loop references for the fused primitives (conv2d, pooling, batch norm): deliberately
// obvious scalar code in double, no tiling, no Eigen, no threads. Inputs may be f32 or f64; every
// result is a new f64 tensor. Letters: x [N, C, H, W], weight [K, C/G, R, S], y [N, K, P, Q].
// The backward references scatter dy through the forward's own index arithmetic, so they are
// the adjoint of the forward loop by construction.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace selfsup::test::reference {

using core::Conv2dParams;
using core::Pool2dParams;
using core::Shape;
using core::Tensor;
using Index = std::int64_t;

namespace detail {

/// Row-major offset of a 4-d index.
inline Index at4(const Shape& s, Index a, Index b, Index c, Index d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

inline std::vector<double> values(const Tensor& t) {
  return t.defined() ? t.to_vector<double>() : std::vector<double>{};
}

inline Tensor make(const std::vector<double>& v, const Shape& shape) {
  return Tensor::from_vector(v, shape);
}

}  // namespace detail

// ---- conv2d ----

inline Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  const Index P = (x[2] + 2 * p.pad_h - p.dilation_h * (w[2] - 1) - 1) / p.stride_h + 1;
  const Index Q = (x[3] + 2 * p.pad_w - p.dilation_w * (w[3] - 1) - 1) / p.stride_w + 1;
  return {x[0], w[0], P, Q};
}

/// Visits every (output, weight, input) triple of a convolution that touches the input (not
/// the padding): fn(y offset, weight offset, x offset).
template <typename Fn>
void conv2d_visit(const Shape& xs, const Shape& ws, const Conv2dParams& p, Fn fn) {
  const Shape ys = reference::conv2d_output_shape(xs, ws, p);
  const Index Cg = ws[1], Kg = ws[0] / p.groups;
  for (Index n = 0; n < ys[0]; ++n)
    for (Index k = 0; k < ys[1]; ++k)
      for (Index oh = 0; oh < ys[2]; ++oh)
        for (Index ow = 0; ow < ys[3]; ++ow)
          for (Index c = 0; c < Cg; ++c)
            for (Index r = 0; r < ws[2]; ++r)
              for (Index s = 0; s < ws[3]; ++s) {
                const Index ih = oh * p.stride_h - p.pad_h + r * p.dilation_h;
                const Index iw = ow * p.stride_w - p.pad_w + s * p.dilation_w;
                if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3]) continue;
                const Index channel = (k / Kg) * Cg + c;  // group (k / Kg), channel c within it
                fn(detail::at4(ys, n, k, oh, ow), detail::at4(ws, k, c, r, s),
                   detail::at4(xs, n, channel, ih, iw));
              }
}

/// y = conv2d(x, weight) + bias (bias may be undefined).
inline Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                             const Conv2dParams& p) {
  const Shape ys = reference::conv2d_output_shape(x.shape(), weight.shape(), p);
  const auto xv = detail::values(x), wv = detail::values(weight), bv = detail::values(bias);
  std::vector<double> y(static_cast<std::size_t>(core::numel(ys)), 0.0);
  if (!bv.empty()) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = bv[(i / (ys[2] * ys[3])) % ys[1]];
  }
  conv2d_visit(x.shape(), weight.shape(), p,
               [&](Index yi, Index wi, Index xi) { y[yi] += wv[wi] * xv[xi]; });
  return detail::make(y, ys);
}

inline Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight,
                                    const Shape& x_shape, const Conv2dParams& p) {
  const auto gv = detail::values(grad_out), wv = detail::values(weight);
  std::vector<double> gx(static_cast<std::size_t>(core::numel(x_shape)), 0.0);
  conv2d_visit(x_shape, weight.shape(), p,
               [&](Index yi, Index wi, Index xi) { gx[xi] += wv[wi] * gv[yi]; });
  return detail::make(gx, x_shape);
}

inline Tensor conv2d_backward_weight(const Tensor& grad_out, const Tensor& x,
                                     const Shape& w_shape, const Conv2dParams& p) {
  const auto gv = detail::values(grad_out), xv = detail::values(x);
  std::vector<double> gw(static_cast<std::size_t>(core::numel(w_shape)), 0.0);
  conv2d_visit(x.shape(), w_shape, p,
               [&](Index yi, Index wi, Index xi) { gw[wi] += xv[xi] * gv[yi]; });
  return detail::make(gw, w_shape);
}

// ---- pooling (PyTorch output-size rule, no dilation) ----

inline Index pool_output_size(Index in, Index k, Index s, Index pad, bool ceil_mode) {
  const double span = static_cast<double>(in + 2 * pad - k) / static_cast<double>(s);
  Index out = static_cast<Index>(ceil_mode ? std::ceil(span) : std::floor(span)) + 1;
  if (ceil_mode && (out - 1) * s >= in + pad) --out;  // last window must start inside
  return out;
}

inline Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p) {
  return {x[0], x[1], pool_output_size(x[2], p.kernel_h, p.stride_h, p.pad_h, p.ceil_mode),
          pool_output_size(x[3], p.kernel_w, p.stride_w, p.pad_w, p.ceil_mode)};
}

/// {y, indices (f64 holding h * W + w)}: the first strict maximum over the window's input cells.
inline std::pair<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  const Shape& xs = x.shape();
  const Shape ys = reference::pool2d_output_shape(xs, p);
  const auto xv = detail::values(x);
  std::vector<double> y(static_cast<std::size_t>(core::numel(ys))), idx(y.size());
  for (Index n = 0; n < ys[0]; ++n)
    for (Index c = 0; c < ys[1]; ++c)
      for (Index oh = 0; oh < ys[2]; ++oh)
        for (Index ow = 0; ow < ys[3]; ++ow) {
          double best = -std::numeric_limits<double>::infinity();
          Index best_index = -1;
          for (Index i = 0; i < p.kernel_h; ++i)
            for (Index j = 0; j < p.kernel_w; ++j) {
              const Index ih = oh * p.stride_h - p.pad_h + i, iw = ow * p.stride_w - p.pad_w + j;
              if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3]) continue;
              const double v = xv[detail::at4(xs, n, c, ih, iw)];
              if (best_index < 0 || v > best) best = v, best_index = ih * xs[3] + iw;
            }
          y[detail::at4(ys, n, c, oh, ow)] = best;
          idx[detail::at4(ys, n, c, oh, ow)] = static_cast<double>(best_index);
        }
  return {detail::make(y, ys), detail::make(idx, ys)};
}

/// dx: dy summed into the input cell its window picked (indices as from max_pool2d_forward).
inline Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                  const Shape& x_shape) {
  const auto gv = detail::values(grad_out), iv = detail::values(indices);
  const Index plane_out = grad_out.size(2) * grad_out.size(3), plane_in = x_shape[2] * x_shape[3];
  std::vector<double> gx(static_cast<std::size_t>(core::numel(x_shape)), 0.0);
  for (std::size_t i = 0; i < gv.size(); ++i) {
    const Index plane = static_cast<Index>(i) / plane_out;
    gx[plane * plane_in + static_cast<Index>(iv[i])] += gv[i];
  }
  return detail::make(gx, x_shape);
}

/// Visits each output cell's window: fn(y offset, list of x offsets, divisor).
template <typename Fn>
void avg_pool2d_visit(const Shape& xs, const Pool2dParams& p, Fn fn) {
  const Shape ys = reference::pool2d_output_shape(xs, p);
  for (Index n = 0; n < ys[0]; ++n)
    for (Index c = 0; c < ys[1]; ++c)
      for (Index oh = 0; oh < ys[2]; ++oh)
        for (Index ow = 0; ow < ys[3]; ++ow) {
          std::vector<Index> cells;
          Index padded = 0;  // window cells inside the padded input
          for (Index i = 0; i < p.kernel_h; ++i)
            for (Index j = 0; j < p.kernel_w; ++j) {
              const Index ih = oh * p.stride_h - p.pad_h + i, iw = ow * p.stride_w - p.pad_w + j;
              if (ih < xs[2] + p.pad_h && iw < xs[3] + p.pad_w) ++padded;
              if (ih >= 0 && ih < xs[2] && iw >= 0 && iw < xs[3]) {
                cells.push_back(detail::at4(xs, n, c, ih, iw));
              }
            }
          const Index divisor = p.count_include_pad ? padded : static_cast<Index>(cells.size());
          fn(detail::at4(ys, n, c, oh, ow), cells, divisor);
        }
}

inline Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  const Shape ys = reference::pool2d_output_shape(x.shape(), p);
  const auto xv = detail::values(x);
  std::vector<double> y(static_cast<std::size_t>(core::numel(ys)), 0.0);
  avg_pool2d_visit(x.shape(), p, [&](Index yi, const std::vector<Index>& cells, Index divisor) {
    double sum = 0.0;
    for (Index xi : cells) sum += xv[xi];
    y[yi] = cells.empty() ? 0.0 : sum / static_cast<double>(divisor);
  });
  return detail::make(y, ys);
}

inline Tensor avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                                  const Shape& x_shape) {
  const auto gv = detail::values(grad_out);
  std::vector<double> gx(static_cast<std::size_t>(core::numel(x_shape)), 0.0);
  avg_pool2d_visit(x_shape, p, [&](Index yi, const std::vector<Index>& cells, Index divisor) {
    for (Index xi : cells) gx[xi] += gv[yi] / static_cast<double>(divisor);
  });
  return detail::make(gx, x_shape);
}

// ---- batch norm (training mode, x [N, C] or [N, C, H, W]) ----

struct BatchNormResult {
  Tensor out, mean, invstd;
};

/// Values of channel c, in order, as flat offsets into x.
inline std::vector<Index> channel_offsets(const Shape& xs, Index c) {
  Index inner = 1;
  for (std::size_t i = 2; i < xs.size(); ++i) inner *= xs[i];
  std::vector<Index> offsets;
  for (Index n = 0; n < xs[0]; ++n)
    for (Index i = 0; i < inner; ++i) offsets.push_back((n * xs[1] + c) * inner + i);
  return offsets;
}

inline BatchNormResult batch_norm_forward_train(const Tensor& x, const Tensor& weight,
                                                const Tensor& bias, double eps) {
  const auto xv = detail::values(x), wv = detail::values(weight), bv = detail::values(bias);
  const Index C = x.size(1);
  std::vector<double> out(xv.size()), mean(static_cast<std::size_t>(C)), invstd(mean.size());
  for (Index c = 0; c < C; ++c) {
    const auto offsets = channel_offsets(x.shape(), c);
    const double m = static_cast<double>(offsets.size());
    double sum = 0.0, sq = 0.0;
    for (Index i : offsets) sum += xv[i];
    mean[c] = sum / m;
    for (Index i : offsets) sq += (xv[i] - mean[c]) * (xv[i] - mean[c]);
    invstd[c] = 1.0 / std::sqrt(sq / m + eps);
    for (Index i : offsets) {
      out[i] = (xv[i] - mean[c]) * invstd[c] * (wv.empty() ? 1.0 : wv[c]) + (bv.empty() ? 0.0 : bv[c]);
    }
  }
  return {detail::make(out, x.shape()), detail::make(mean, {C}), detail::make(invstd, {C})};
}

struct BatchNormGrads {
  Tensor grad_input, grad_weight, grad_bias;
};

/// Textbook gradients with batch statistics recomputed from x:
/// dbias = sum dy, dweight = sum dy xhat, dx = w invstd (dy - dbias / M - xhat dweight / M).
inline BatchNormGrads batch_norm_backward(const Tensor& grad_out, const Tensor& x,
                                          const Tensor& weight, double eps) {
  const BatchNormResult fwd = reference::batch_norm_forward_train(x, Tensor(), Tensor(), eps);
  const auto xhat = detail::values(fwd.out), gv = detail::values(grad_out),
             wv = detail::values(weight), invstd = detail::values(fwd.invstd);
  const Index C = x.size(1);
  std::vector<double> gx(gv.size()), gw(static_cast<std::size_t>(C)), gb(gw.size());
  for (Index c = 0; c < C; ++c) {
    const auto offsets = channel_offsets(x.shape(), c);
    const double m = static_cast<double>(offsets.size());
    for (Index i : offsets) gb[c] += gv[i], gw[c] += gv[i] * xhat[i];
    const double w = wv.empty() ? 1.0 : wv[c];
    for (Index i : offsets) gx[i] = w * invstd[c] * (gv[i] - gb[c] / m - xhat[i] * gw[c] / m);
  }
  return {detail::make(gx, x.shape()), detail::make(gw, {C}), detail::make(gb, {C})};
}

}  // namespace selfsup::test::reference
