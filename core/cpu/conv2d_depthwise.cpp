// Depthwise 2-d convolution (one input channel per group, as in MobileNet/EfficientNet):
// direct loops, which beat im2col + GEMM here (a GEMM with R*S = 9 or 25 rows is mostly packing).
// Letters: x [N, C, H, W], weight [K, 1, R, S], out [N, K, P, Q]; output channel k reads input
// channel k / Kg. Maps at least kRowMinWidth wide run row by row (contiguous, vectorised inner
// loops); narrower maps copy each plane into a zero-padded buffer and run every kernel tap over
// all outputs at once through an offset table, so short rows cost no per-row bookkeeping.
// Outputs are overwritten. Every output (or weight) element is owned by one thread, and sums run
// in a fixed order, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/cpu/conv2d_internal.h"

namespace selfsup::core::cpu::conv2d_internal {
namespace {

constexpr Index kRowMinWidth = 16;

// ---- wide maps: row loops ----

template <typename T>
void forward_rows(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out) {
  const Index RS = g.R * g.S;
#pragma omp parallel for collapse(2) schedule(static) if (g.worth_threads())
  for (Index n = 0; n < g.N; ++n) {
    for (Index k = 0; k < g.K; ++k) {
      const T* plane = x + (n * g.C + k / g.Kg) * g.HW();
      const T* wk = weight + k * RS;
      T* o = out + (n * g.K + k) * g.PQ();
      std::fill(o, o + g.PQ(), bias ? bias[k] : T(0));
      for (Index p = 0; p < g.P; ++p) {
        T* orow = o + p * g.Q;
        for (Index r = 0; r < g.R; ++r) {
          const Index ih = p * g.sh - g.ph + r * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (Index s = 0; s < g.S; ++s) {
            const T w = wk[r * g.S + s];
            const T* src = plane + ih * g.W - g.pw + s * g.dw;
            const ColRange cols = valid_cols(s * g.dw, g.pw, g.sw, g.W, g.Q);
            if (g.sw == 1) {
              for (Index q = cols.lo; q < cols.hi; ++q) orow[q] += w * src[q];
            } else {
              for (Index q = cols.lo; q < cols.hi; ++q) orow[q] += w * src[q * g.sw];
            }
          }
        }
      }
    }
  }
}

template <typename T>
void backward_input_rows(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x) {
  const Index RS = g.R * g.S;
#pragma omp parallel for collapse(2) schedule(static) if (g.worth_threads())
  for (Index n = 0; n < g.N; ++n) {
    for (Index c = 0; c < g.C; ++c) {
      T* plane = grad_x + (n * g.C + c) * g.HW();
      std::fill(plane, plane + g.HW(), T(0));
      for (Index j = 0; j < g.Kg; ++j) {
        const Index k = c * g.Kg + j;
        const T* go = grad_out + (n * g.K + k) * g.PQ();
        const T* wk = weight + k * RS;
        for (Index p = 0; p < g.P; ++p) {
          const T* gorow = go + p * g.Q;
          for (Index r = 0; r < g.R; ++r) {
            const Index ih = p * g.sh - g.ph + r * g.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (Index s = 0; s < g.S; ++s) {
              const T w = wk[r * g.S + s];
              T* dst = plane + ih * g.W - g.pw + s * g.dw;
              const ColRange cols = valid_cols(s * g.dw, g.pw, g.sw, g.W, g.Q);
              if (g.sw == 1) {
                for (Index q = cols.lo; q < cols.hi; ++q) dst[q] += w * gorow[q];
              } else {
                for (Index q = cols.lo; q < cols.hi; ++q) dst[q * g.sw] += w * gorow[q];
              }
            }
          }
        }
      }
    }
  }
}

template <typename T>
void backward_weight_rows(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w) {
  const Index RS = g.R * g.S;
#pragma omp parallel for schedule(static) if (g.worth_threads())
  for (Index k = 0; k < g.K; ++k) {
    T* gw = grad_w + k * RS;
    std::fill(gw, gw + RS, T(0));
    for (Index n = 0; n < g.N; ++n) {
      const T* plane = x + (n * g.C + k / g.Kg) * g.HW();
      const T* go = grad_out + (n * g.K + k) * g.PQ();
      for (Index p = 0; p < g.P; ++p) {
        const T* gorow = go + p * g.Q;
        for (Index r = 0; r < g.R; ++r) {
          const Index ih = p * g.sh - g.ph + r * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (Index s = 0; s < g.S; ++s) {
            const T* src = plane + ih * g.W - g.pw + s * g.dw;
            const ColRange cols = valid_cols(s * g.dw, g.pw, g.sw, g.W, g.Q);
            T acc = 0;
            if (g.sw == 1) {
              for (Index q = cols.lo; q < cols.hi; ++q) acc += gorow[q] * src[q];
            } else {
              for (Index q = cols.lo; q < cols.hi; ++q) acc += gorow[q] * src[q * g.sw];
            }
            gw[r * g.S + s] += acc;
          }
        }
      }
    }
  }
}


// ---- narrow maps: padded planes and an offset table ----
// Padded plane: (H + 2 ph) x (W + 2 pw), zero border. Output j = (p, q) starts at base[j] =
// p*sh*Wp + q*sw; tap t = (r, s) adds tap[t] = r*dh*Wp + s*dw. Both tables and one padded plane
// per thread are allocated by the calling thread before the team starts.
template <typename T>
class PaddedPlanes {
 public:
  explicit PaddedPlanes(const ConvGeom& g)
      : Hp_(g.H + 2 * g.ph), Wp_(g.W + 2 * g.pw), g_(g) {
    thread_local std::vector<std::int32_t> offsets;
    offsets.resize(static_cast<std::size_t>(g.PQ() + g.R * g.S));
    for (Index p = 0; p < g.P; ++p)
      for (Index q = 0; q < g.Q; ++q) offsets[p * g.Q + q] = static_cast<std::int32_t>(p * g.sh * Wp_ + q * g.sw);
    for (Index r = 0; r < g.R; ++r)
      for (Index s = 0; s < g.S; ++s)
        offsets[g.PQ() + r * g.S + s] = static_cast<std::int32_t>(r * g.dh * Wp_ + s * g.dw);
    base_ = offsets.data();
    tap_ = offsets.data() + g.PQ();
    thread_local std::vector<T> planes;
    const auto size = static_cast<std::size_t>(omp_get_max_threads() * Hp_ * Wp_);
    planes.assign(size, T(0));  // borders stay zero: only interiors are written later
    planes_ = planes.data();
  }
  /// This thread's padded plane (zero border).
  T* plane() const { return planes_ + omp_get_thread_num() * Hp_ * Wp_; }
  /// Copies an input plane into the interior of `pad`.
  void fill(const T* src, T* pad) const {
    for (Index h = 0; h < g_.H; ++h) {
      std::copy(src + h * g_.W, src + (h + 1) * g_.W, pad + (h + g_.ph) * Wp_ + g_.pw);
    }
  }
  /// Copies the interior of `pad` out to a plane.
  void extract(const T* pad, T* dst) const {
    for (Index h = 0; h < g_.H; ++h) {
      const T* row = pad + (h + g_.ph) * Wp_ + g_.pw;
      std::copy(row, row + g_.W, dst + h * g_.W);
    }
  }
  void clear(T* pad) const { std::fill(pad, pad + Hp_ * Wp_, T(0)); }
  const std::int32_t* base() const { return base_; }
  const std::int32_t* tap() const { return tap_; }

 private:
  Index Hp_, Wp_;
  const ConvGeom& g_;
  const std::int32_t* base_ = nullptr;
  const std::int32_t* tap_ = nullptr;
  T* planes_ = nullptr;
};

template <typename T>
void forward_table(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out) {
  const PaddedPlanes<T> planes(g);
  const Index RS = g.R * g.S, PQ = g.PQ();
  const std::int32_t* base = planes.base();
  const std::int32_t* tap = planes.tap();
#pragma omp parallel for collapse(2) schedule(static) if (g.worth_threads())
  for (Index n = 0; n < g.N; ++n) {
    for (Index k = 0; k < g.K; ++k) {
      T* pad = planes.plane();
      planes.fill(x + (n * g.C + k / g.Kg) * g.HW(), pad);
      T* o = out + (n * g.K + k) * PQ;
      std::fill(o, o + PQ, bias ? bias[k] : T(0));
      for (Index t = 0; t < RS; ++t) {
        const T w = weight[k * RS + t];
        const T* src = pad + tap[t];
#pragma omp simd  // o and the padded plane never overlap
        for (Index j = 0; j < PQ; ++j) o[j] += w * src[base[j]];
      }
    }
  }
}

template <typename T>
void backward_input_table(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x) {
  const PaddedPlanes<T> planes(g);
  const Index RS = g.R * g.S, PQ = g.PQ();
  const std::int32_t* base = planes.base();
  const std::int32_t* tap = planes.tap();
#pragma omp parallel for collapse(2) schedule(static) if (g.worth_threads())
  for (Index n = 0; n < g.N; ++n) {
    for (Index c = 0; c < g.C; ++c) {
      T* pad = planes.plane();
      planes.clear(pad);
      for (Index m = 0; m < g.Kg; ++m) {
        const Index k = c * g.Kg + m;
        const T* go = grad_out + (n * g.K + k) * PQ;
        for (Index t = 0; t < RS; ++t) {
          const T w = weight[k * RS + t];
          T* dst = pad + tap[t];
          // one tap never reaches a position twice, so this scatter has no conflicts
#pragma omp simd
          for (Index j = 0; j < PQ; ++j) dst[base[j]] += w * go[j];
        }
      }
      planes.extract(pad, grad_x + (n * g.C + c) * g.HW());
    }
  }
}

template <typename T>
void backward_weight_table(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w) {
  const PaddedPlanes<T> planes(g);
  const Index RS = g.R * g.S, PQ = g.PQ();
  const std::int32_t* base = planes.base();
  const std::int32_t* tap = planes.tap();
#pragma omp parallel for schedule(static) if (g.worth_threads())
  for (Index k = 0; k < g.K; ++k) {
    T* pad = planes.plane();
    T* gw = grad_w + k * RS;
    std::fill(gw, gw + RS, T(0));
    for (Index n = 0; n < g.N; ++n) {
      planes.fill(x + (n * g.C + k / g.Kg) * g.HW(), pad);
      const T* go = grad_out + (n * g.K + k) * PQ;
      for (Index j = 0; j < PQ; ++j) {
        const T d = go[j];
        const T* src = pad + base[j];
#pragma omp simd  // gw and the padded plane never overlap
        for (Index t = 0; t < RS; ++t) gw[t] += d * src[tap[t]];
      }
    }
  }
}

}  // namespace

template <typename T>
void depthwise_forward(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out) {
  if (g.Q >= kRowMinWidth) return forward_rows(x, weight, bias, g, out);
  forward_table(x, weight, bias, g, out);
}

template <typename T>
void depthwise_backward_input(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x) {
  if (g.Q >= kRowMinWidth) return backward_input_rows(grad_out, weight, g, grad_x);
  backward_input_table(grad_out, weight, g, grad_x);
}

template <typename T>
void depthwise_backward_weight(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w) {
  if (g.Q >= kRowMinWidth) return backward_weight_rows(grad_out, x, g, grad_w);
  backward_weight_table(grad_out, x, g, grad_w);
}

template void depthwise_forward<float>(const float*, const float*, const float*, const ConvGeom&, float*);
template void depthwise_forward<double>(const double*, const double*, const double*, const ConvGeom&, double*);
template void depthwise_backward_input<float>(const float*, const float*, const ConvGeom&, float*);
template void depthwise_backward_input<double>(const double*, const double*, const ConvGeom&, double*);
template void depthwise_backward_weight<float>(const float*, const float*, const ConvGeom&, float*);
template void depthwise_backward_weight<double>(const double*, const double*, const ConvGeom&, double*);

}  // namespace selfsup::core::cpu::conv2d_internal
