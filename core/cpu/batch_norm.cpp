// CPU training-mode batch norm: batch_norm_forward_train / batch_norm_backward.
// Letters: x [N, C, L] where L = H * W (L = 1 for x [N, C]); M = N * L values per channel.
// forward:  mean = sum(x) / M, var = sum((x - mean)^2) / M (biased, two passes),
//           invstd = 1 / sqrt(var + eps), out = (x - mean) * invstd * weight + bias.
// backward: xhat = (x - mean) * invstd, grad_bias = sum(dy), grad_weight = sum(dy * xhat),
//           dx = weight * invstd * (dy - grad_bias / M - xhat * grad_weight / M).
// Sums accumulate in double in a fixed order per channel (channels are split over threads,
// never a sum), so results do not depend on the thread count. weight / bias may be undefined.
// reference: https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace selfsup::core::cpu {
namespace {

using Index = std::int64_t;

// Below this many values the calling thread works alone (a team costs more than it saves).
constexpr Index kParallelMin = Index{1} << 15;
// Channels per block in the [N, C] layout, where a channel's values are strided by C.
constexpr Index kChannelBlock = 64;

// Sum of f(i), i in [0, len), with 8 fixed partial sums: vectorisable, and the order depends
// only on len.
template <typename F>
double lane_sum(Index len, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  Index i = 0;
  for (; i + 8 <= len; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += f(i + j);
  }
  double tail = 0;
  for (; i < len; ++i) tail += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

struct BnGeom {
  Index N, C, L;
  Index M() const { return N * L; }
};

BnGeom make_geom(const Shape& x) {
  Index L = 1;
  for (std::size_t i = 2; i < x.size(); ++i) L *= x[i];
  return {x[0], x[1], L};
}

template <typename T>
T value_or(const T* p, Index i, T fallback) {
  return p ? p[i] : fallback;
}

// ---- x [N, C, L] with L > 1: one channel per iteration, contiguous runs of L ----

template <typename T>
void forward_planes(const T* x, const T* weight, const T* bias, double eps, const BnGeom& g,
                    T* out, T* save_mean, T* save_invstd) {
  const double inv_m = 1.0 / static_cast<double>(g.M());
#pragma omp parallel for schedule(static) if (g.N * g.C * g.L >= kParallelMin)
  for (Index c = 0; c < g.C; ++c) {
    double sum = 0;
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + (n * g.C + c) * g.L;
      sum += lane_sum(g.L, [row](Index i) { return static_cast<double>(row[i]); });
    }
    const double mean = sum * inv_m;
    double sq = 0;
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + (n * g.C + c) * g.L;
      sq += lane_sum(g.L, [row, mean](Index i) {
        const double d = static_cast<double>(row[i]) - mean;
        return d * d;
      });
    }
    const double invstd = 1.0 / std::sqrt(sq * inv_m + eps);
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    // NOTE: (x - mean) * scale + bias, not x * scale + shift: no cancellation when |mean| >> std.
    const T mean_t = static_cast<T>(mean), bias_t = value_or(bias, c, T(0));
    const T scale_t = static_cast<T>(invstd * static_cast<double>(value_or(weight, c, T(1))));
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + (n * g.C + c) * g.L;
      T* dst = out + (n * g.C + c) * g.L;
      for (Index i = 0; i < g.L; ++i) dst[i] = (row[i] - mean_t) * scale_t + bias_t;
    }
  }
}

template <typename T>
void backward_planes(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                     const T* save_invstd, const BnGeom& g, T* grad_x, T* grad_w, T* grad_b) {
  const double inv_m = 1.0 / static_cast<double>(g.M());
#pragma omp parallel for schedule(static) if (g.N * g.C * g.L >= kParallelMin)
  for (Index c = 0; c < g.C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_dy = 0, sum_dy_xc = 0;  // sum(dy), sum(dy * (x - mean))
    for (Index n = 0; n < g.N; ++n) {
      const T* dy = grad_out + (n * g.C + c) * g.L;
      const T* row = x + (n * g.C + c) * g.L;
      sum_dy += lane_sum(g.L, [dy](Index i) { return static_cast<double>(dy[i]); });
      sum_dy_xc += lane_sum(g.L, [dy, row, mean](Index i) {
        return static_cast<double>(dy[i]) * (static_cast<double>(row[i]) - mean);
      });
    }
    if (grad_b) grad_b[c] = static_cast<T>(sum_dy);
    if (grad_w) grad_w[c] = static_cast<T>(sum_dy_xc * invstd);
    if (!grad_x) continue;
    // dx = a * dy + b * (x - mean) + d, expanded from the formula in the header.
    const double w = static_cast<double>(value_or(weight, c, T(1)));
    const double a = w * invstd;
    const T a_t = static_cast<T>(a), mean_t = static_cast<T>(mean);
    const T b_t = static_cast<T>(-a * invstd * invstd * sum_dy_xc * inv_m);
    const T d_t = static_cast<T>(-a * sum_dy * inv_m);
    for (Index n = 0; n < g.N; ++n) {
      const T* dy = grad_out + (n * g.C + c) * g.L;
      const T* row = x + (n * g.C + c) * g.L;
      T* dst = grad_x + (n * g.C + c) * g.L;
      for (Index i = 0; i < g.L; ++i) dst[i] = a_t * dy[i] + b_t * (row[i] - mean_t) + d_t;
    }
  }
}

// ---- x [N, C] (L == 1): blocks of channels, rows visited in order n = 0..N-1 ----

template <typename T>
void forward_rows(const T* x, const T* weight, const T* bias, double eps, const BnGeom& g, T* out,
                  T* save_mean, T* save_invstd) {
  const double inv_m = 1.0 / static_cast<double>(g.N);
  const Index blocks = (g.C + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (g.N * g.C * g.L >= kParallelMin)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index c0 = blk * kChannelBlock, nc = std::min(kChannelBlock, g.C - c0);
    double mean[kChannelBlock] = {}, sq[kChannelBlock] = {};
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + n * g.C + c0;
      for (Index j = 0; j < nc; ++j) mean[j] += static_cast<double>(row[j]);
    }
    for (Index j = 0; j < nc; ++j) mean[j] *= inv_m;
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + n * g.C + c0;
      for (Index j = 0; j < nc; ++j) {
        const double d = static_cast<double>(row[j]) - mean[j];
        sq[j] += d * d;
      }
    }
    T center[kChannelBlock], scale[kChannelBlock], shift[kChannelBlock];
    for (Index j = 0; j < nc; ++j) {
      const double invstd = 1.0 / std::sqrt(sq[j] * inv_m + eps);
      save_mean[c0 + j] = static_cast<T>(mean[j]);
      save_invstd[c0 + j] = static_cast<T>(invstd);
      center[j] = static_cast<T>(mean[j]);
      scale[j] = static_cast<T>(invstd * static_cast<double>(value_or(weight, c0 + j, T(1))));
      shift[j] = value_or(bias, c0 + j, T(0));
    }
    for (Index n = 0; n < g.N; ++n) {
      const T* row = x + n * g.C + c0;
      T* dst = out + n * g.C + c0;
      for (Index j = 0; j < nc; ++j) dst[j] = (row[j] - center[j]) * scale[j] + shift[j];
    }
  }
}

template <typename T>
void backward_rows(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                   const T* save_invstd, const BnGeom& g, T* grad_x, T* grad_w, T* grad_b) {
  const double inv_m = 1.0 / static_cast<double>(g.N);
  const Index blocks = (g.C + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for schedule(static) if (g.N * g.C * g.L >= kParallelMin)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index c0 = blk * kChannelBlock, nc = std::min(kChannelBlock, g.C - c0);
    double sum_dy[kChannelBlock] = {}, sum_dy_xc[kChannelBlock] = {};
    for (Index n = 0; n < g.N; ++n) {
      const T* dy = grad_out + n * g.C + c0;
      const T* row = x + n * g.C + c0;
      for (Index j = 0; j < nc; ++j) {
        sum_dy[j] += static_cast<double>(dy[j]);
        sum_dy_xc[j] += static_cast<double>(dy[j]) *
                        (static_cast<double>(row[j]) - static_cast<double>(save_mean[c0 + j]));
      }
    }
    T a[kChannelBlock], b[kChannelBlock], d[kChannelBlock];
    for (Index j = 0; j < nc; ++j) {
      const double invstd = save_invstd[c0 + j];
      if (grad_b) grad_b[c0 + j] = static_cast<T>(sum_dy[j]);
      if (grad_w) grad_w[c0 + j] = static_cast<T>(sum_dy_xc[j] * invstd);
      const double aj = static_cast<double>(value_or(weight, c0 + j, T(1))) * invstd;
      a[j] = static_cast<T>(aj);
      b[j] = static_cast<T>(-aj * invstd * invstd * sum_dy_xc[j] * inv_m);
      d[j] = static_cast<T>(-aj * sum_dy[j] * inv_m);
    }
    if (!grad_x) continue;
    const T* mean = save_mean + c0;
    for (Index n = 0; n < g.N; ++n) {
      const T* dy = grad_out + n * g.C + c0;
      const T* row = x + n * g.C + c0;
      T* dst = grad_x + n * g.C + c0;
      for (Index j = 0; j < nc; ++j) dst[j] = a[j] * dy[j] + b[j] * (row[j] - mean[j]) + d[j];
    }
  }
}

template <typename T>
T* data_or_null(Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void CpuBackend::batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                          double eps, Tensor& out, Tensor& save_mean,
                                          Tensor& save_invstd) {
  const BnGeom g = make_geom(x.shape());
  dispatch_float(x.dtype(), "batch_norm_forward_train", [&]<typename T>() {
    const auto run = g.L == 1 ? forward_rows<T> : forward_planes<T>;
    run(x.data<T>(), data_or_null<T>(weight), data_or_null<T>(bias), eps, g, out.data<T>(),
        save_mean.data<T>(), save_invstd.data<T>());
  });
}

void CpuBackend::batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_invstd,
                                     Tensor& grad_input, Tensor& grad_weight, Tensor& grad_bias) {
  const BnGeom g = make_geom(x.shape());
  dispatch_float(x.dtype(), "batch_norm_backward", [&]<typename T>() {
    const auto run = g.L == 1 ? backward_rows<T> : backward_planes<T>;
    run(grad_out.data<T>(), x.data<T>(), data_or_null<T>(weight), save_mean.data<T>(),
        save_invstd.data<T>(), g, data_or_null<T>(grad_input), data_or_null<T>(grad_weight),
        data_or_null<T>(grad_bias));
  });
}

}  // namespace selfsup::core::cpu
