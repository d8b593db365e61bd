// CPU 2-d pooling: max_pool2d_forward / max_pool2d_backward, avg_pool2d_forward / _backward.
// Letters: x [N, C, H, W], out [N, C, P, Q]. The output shape (incl. ceil_mode) comes from core;
// windows follow PyTorch's CPU kernels: max pool treats padding as -inf and propagates NaN,
// avg pool divides by the window clipped to the padded input (count_include_pad) or to the
// input itself. Max-pool indices are the flat h * W + w within the input plane (i64).
// Every plane is owned by one thread, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/cpu/cpu_backend.h"

namespace selfsup::core::cpu {
namespace {

using Index = std::int64_t;

constexpr Index kParallelMin = Index{1} << 14;

struct PoolGeom {
  Index planes, H, W, P, Q;
  Index HW() const { return H * W; }
  Index PQ() const { return P * Q; }
};

PoolGeom make_geom(const Shape& x, const Shape& out) {
  return {x[0] * x[1], x[2], x[3], out[2], out[3]};
}

// Outputs q whose window column q*stride - pad + offset lies in [0, width): [lo, hi).
struct ColRange {
  Index lo, hi;
};
ColRange valid_cols(Index offset, Index pad, Index stride, Index width, Index count) {
  const auto floor_div = [](Index a, Index b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const Index lo = std::max<Index>(0, -floor_div(offset - pad, stride));
  const Index hi = std::min<Index>(count, floor_div(width - 1 + pad - offset, stride) + 1);
  return {lo, std::max(lo, hi)};
}

// One block of an output row at a time: every window cell (h, kw) updates all outputs of the
// block, so the running maxima are independent across the block and the compare/select
// vectorises (local arrays, so nothing aliases). Cells are visited in the same row-major window
// order as PyTorch's loop, so ties resolve the same way.
constexpr Index kRowBlock = 64;

template <typename T>
void max_forward(const T* x, const PoolGeom& g, const Pool2dParams& p, T* out,
                 std::int64_t* indices) {
#pragma omp parallel for schedule(static) if (g.planes * g.HW() >= kParallelMin)
  for (Index plane = 0; plane < g.planes; ++plane) {
    const T* src = x + plane * g.HW();
    for (Index oh = 0; oh < g.P; ++oh) {
      const Index h1 = std::min(oh * p.stride_h - p.pad_h + p.kernel_h, g.H);
      const Index h0 = std::max<Index>(oh * p.stride_h - p.pad_h, 0);
      for (Index q0 = 0; q0 < g.Q; q0 += kRowBlock) {
        const Index nq = std::min(kRowBlock, g.Q - q0);
        T best[kRowBlock];
        std::int64_t best_index[kRowBlock];
        for (Index j = 0; j < nq; ++j) {
          best[j] = -std::numeric_limits<T>::infinity();
          best_index[j] = h0 * g.W + std::max<Index>((q0 + j) * p.stride_w - p.pad_w, 0);
        }
        for (Index h = h0; h < h1; ++h) {
          for (Index kw = 0; kw < p.kernel_w; ++kw) {
            const ColRange cols = valid_cols(kw, p.pad_w, p.stride_w, g.W, g.Q);
            const Index lo = std::max(cols.lo, q0) - q0, hi = std::min(cols.hi, q0 + nq) - q0;
            const Index offset = h * g.W - p.pad_w + kw + q0 * p.stride_w;  // + j * stride_w
            for (Index j = lo; j < hi; ++j) {
              const Index at = offset + j * p.stride_w;
              const T v = src[at];
              const bool take = (v > best[j]) | (v != v);  // NaN wins, as in PyTorch
              best[j] = take ? v : best[j];
              best_index[j] = take ? at : best_index[j];
            }
          }
        }
        std::copy(best, best + nq, out + plane * g.PQ() + oh * g.Q + q0);
        std::copy(best_index, best_index + nq, indices + plane * g.PQ() + oh * g.Q + q0);
      }
    }
  }
}

template <typename T>
void max_backward(const T* grad_out, const std::int64_t* indices, const PoolGeom& g, T* grad_x) {
#pragma omp parallel for schedule(static) if (g.planes * g.HW() >= kParallelMin)
  for (Index plane = 0; plane < g.planes; ++plane) {
    T* dst = grad_x + plane * g.HW();
    const T* src = grad_out + plane * g.PQ();
    const std::int64_t* idx = indices + plane * g.PQ();
    std::fill(dst, dst + g.HW(), T(0));
    for (Index j = 0; j < g.PQ(); ++j) {
      // NOTE: an index outside the plane only comes from an empty window (impossible with
      // PyTorch's output-size rule); skip it rather than write out of bounds.
      if (idx[j] >= 0 && idx[j] < g.HW()) dst[idx[j]] += src[j];
    }
  }
}

// The window of output (oh, ow) clipped to the input, and its divisor.
struct AvgWindow {
  Index h0, h1, w0, w1, divisor;
};
AvgWindow avg_window(const PoolGeom& g, const Pool2dParams& p, Index oh, Index ow) {
  Index h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  Index h1 = std::min(h0 + p.kernel_h, g.H + p.pad_h);
  Index w1 = std::min(w0 + p.kernel_w, g.W + p.pad_w);
  const Index padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<Index>(h0, 0), w0 = std::max<Index>(w0, 0);
  h1 = std::min(h1, g.H), w1 = std::min(w1, g.W);
  const Index divisor = p.count_include_pad ? padded_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

template <typename T>
void avg_forward(const T* x, const PoolGeom& g, const Pool2dParams& p, T* out) {
#pragma omp parallel for schedule(static) if (g.planes * g.HW() >= kParallelMin)
  for (Index plane = 0; plane < g.planes; ++plane) {
    const T* src = x + plane * g.HW();
    T* dst = out + plane * g.PQ();
    for (Index oh = 0; oh < g.P; ++oh) {
      for (Index ow = 0; ow < g.Q; ++ow) {
        const AvgWindow win = avg_window(g, p, oh, ow);
        if (win.h0 >= win.h1 || win.w0 >= win.w1) {
          dst[oh * g.Q + ow] = T(0);
          continue;
        }
        T sum = 0;
        for (Index h = win.h0; h < win.h1; ++h) {
          for (Index w = win.w0; w < win.w1; ++w) sum += src[h * g.W + w];
        }
        dst[oh * g.Q + ow] = sum / static_cast<T>(win.divisor);
      }
    }
  }
}

template <typename T>
void avg_backward(const T* grad_out, const PoolGeom& g, const Pool2dParams& p, T* grad_x) {
#pragma omp parallel for schedule(static) if (g.planes * g.HW() >= kParallelMin)
  for (Index plane = 0; plane < g.planes; ++plane) {
    T* dst = grad_x + plane * g.HW();
    const T* src = grad_out + plane * g.PQ();
    std::fill(dst, dst + g.HW(), T(0));
    for (Index oh = 0; oh < g.P; ++oh) {
      for (Index ow = 0; ow < g.Q; ++ow) {
        const AvgWindow win = avg_window(g, p, oh, ow);
        if (win.h0 >= win.h1 || win.w0 >= win.w1) continue;
        const T share = src[oh * g.Q + ow] / static_cast<T>(win.divisor);
        for (Index h = win.h0; h < win.h1; ++h) {
          for (Index w = win.w0; w < win.w1; ++w) dst[h * g.W + w] += share;
        }
      }
    }
  }
}

}  // namespace

void CpuBackend::max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out,
                                    Tensor& indices) {
  const PoolGeom g = make_geom(x.shape(), out.shape());
  dispatch_float(x.dtype(), "max_pool2d_forward", [&]<typename T>() {
    max_forward<T>(x.data<T>(), g, p, out.data<T>(), indices.data<std::int64_t>());
  });
}

void CpuBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                     Tensor& grad_input) {
  const PoolGeom g = make_geom(grad_input.shape(), grad_out.shape());
  dispatch_float(grad_out.dtype(), "max_pool2d_backward", [&]<typename T>() {
    max_backward<T>(grad_out.data<T>(), indices.data<std::int64_t>(), g, grad_input.data<T>());
  });
}

void CpuBackend::avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out) {
  const PoolGeom g = make_geom(x.shape(), out.shape());
  dispatch_float(x.dtype(), "avg_pool2d_forward", [&]<typename T>() {
    avg_forward<T>(x.data<T>(), g, p, out.data<T>());
  });
}

void CpuBackend::avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                                     Tensor& grad_input) {
  const PoolGeom g = make_geom(grad_input.shape(), grad_out.shape());
  dispatch_float(grad_out.dtype(), "avg_pool2d_backward", [&]<typename T>() {
    avg_backward<T>(grad_out.data<T>(), g, p, grad_input.data<T>());
  });
}

}  // namespace selfsup::core::cpu
