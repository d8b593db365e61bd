// Differentiable 2-d pooling: max_pool2d and avg_pool2d on the backend's fused pairs, and
// adaptive_avg_pool2d (an avg pool when the windows tile the input, otherwise composed from
// slice + mean + cat). Letters: x [N, C, H, W], y [N, C, P, Q]. PyTorch semantics throughout.
// Saved for backward: max pool keeps the argmax indices, avg pool only shapes and params.
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {
namespace {

using core::check;
using core::Pool2dParams;
using core::ShapeError;
using core::ValueError;

std::string pool_desc(std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  return "kernel " + std::to_string(kernel) + ", stride " + std::to_string(stride) + ", padding " +
         std::to_string(padding);
}

// Shared by max_pool2d and avg_pool2d: x is 4-d, the window parameters are valid (PyTorch's
// rules: padding at most half the kernel), and the output is not empty.
Pool2dParams pool_params(const char* op, const Variable& x, std::int64_t kernel,
                         std::int64_t stride, std::int64_t padding, bool ceil_mode) {
  check<ShapeError>(x.dim() == 4, std::string(op) + ": x must be 4-d [N, C, H, W] (x has shape " +
                                      core::to_string(x.shape()) + ")");
  check<ValueError>(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel,
                    std::string(op) + ": need kernel > 0, stride > 0 and 0 <= padding <= kernel / 2 (" +
                        pool_desc(kernel, stride, padding) + ")");
  Pool2dParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.pad_h = p.pad_w = padding;
  p.ceil_mode = ceil_mode;
  check<ShapeError>(x.size(2) + 2 * padding >= kernel && x.size(3) + 2 * padding >= kernel,
                    std::string(op) + ": the window is larger than the padded input (x has shape " +
                        core::to_string(x.shape()) + ", " + pool_desc(kernel, stride, padding) + ")");
  return p;
}

// avg pool with explicit (possibly non-square) params; used by avg_pool2d and the tiling case of
// adaptive_avg_pool2d. y = mean of each window; dx spreads dy / divisor over the window.
Variable avg_pool2d_with(const Variable& x, const Pool2dParams& p) {
  const Tensor y = core::avg_pool2d_forward(x.data(), p);
  return make_result("avg_pool2d", y, {x},
                     [p, x_shape = x.shape()](const Tensor& dy, Gradients& grads) {
                       if (grads.needs(0)) {
                         grads.accumulate(0, core::avg_pool2d_backward(dy.contiguous(), p, x_shape));
                       }
                     });
}

}  // namespace

// y[n, c, p, q] = max over the window (padding counts as -inf); dx routes dy to the argmax.
// reference: https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html
Variable max_pool2d(const Variable& x, std::int64_t kernel, std::int64_t stride,
                    std::int64_t padding, bool ceil_mode) {
  const Pool2dParams p = pool_params("max_pool2d", x, kernel, stride, padding, ceil_mode);
  auto [y, indices] = core::max_pool2d_forward(x.data(), p);
  return make_result("max_pool2d", y, {x},
                     [indices, x_shape = x.shape()](const Tensor& dy, Gradients& grads) {
                       if (grads.needs(0)) {
                         grads.accumulate(0, core::max_pool2d_backward(dy.contiguous(), indices, x_shape));
                       }
                     });
}

// y = window sum / divisor (window size incl. padding when count_include_pad, else the valid
// part); dx = dy / divisor over each window.
// reference: https://pytorch.org/docs/stable/generated/torch.nn.AvgPool2d.html
Variable avg_pool2d(const Variable& x, std::int64_t kernel, std::int64_t stride,
                    std::int64_t padding, bool ceil_mode, bool count_include_pad) {
  Pool2dParams p = pool_params("avg_pool2d", x, kernel, stride, padding, ceil_mode);
  p.count_include_pad = count_include_pad;
  return avg_pool2d_with(x, p);
}

// Output cell (i, j) averages rows [floor(i H / P), ceil((i + 1) H / P)) and the matching
// columns; the gradient follows from avg_pool2d or from slice/mean/cat.
// reference: https://pytorch.org/docs/stable/generated/torch.nn.AdaptiveAvgPool2d.html
Variable adaptive_avg_pool2d(const Variable& x, std::int64_t out_h, std::int64_t out_w) {
  check<ShapeError>(x.dim() == 4, "adaptive_avg_pool2d: x must be 4-d [N, C, H, W] (x has shape " +
                                      core::to_string(x.shape()) + ")");
  check<ValueError>(out_h > 0 && out_w > 0,
                    "adaptive_avg_pool2d: output size must be positive (got " +
                        std::to_string(out_h) + "x" + std::to_string(out_w) + ")");
  const std::int64_t H = x.size(2), W = x.size(3);
  check<ShapeError>(H > 0 && W > 0, "adaptive_avg_pool2d: x has an empty spatial dim (x has shape " +
                                        core::to_string(x.shape()) + ")");
  if (H % out_h == 0 && W % out_w == 0) {  // the windows tile the input: a plain avg pool
    Pool2dParams p;
    p.kernel_h = p.stride_h = H / out_h;
    p.kernel_w = p.stride_w = W / out_w;
    return avg_pool2d_with(x, p);
  }
  // NOTE: overlapping or uneven windows; composed, so the gradient comes from slice/mean/cat.
  std::vector<Variable> rows;
  rows.reserve(static_cast<std::size_t>(out_h));
  for (std::int64_t i = 0; i < out_h; ++i) {
    const std::int64_t h0 = (i * H) / out_h, h1 = ((i + 1) * H + out_h - 1) / out_h;
    const Variable band = slice(x, 2, h0, h1);
    std::vector<Variable> cells;
    cells.reserve(static_cast<std::size_t>(out_w));
    for (std::int64_t j = 0; j < out_w; ++j) {
      const std::int64_t w0 = (j * W) / out_w, w1 = ((j + 1) * W + out_w - 1) / out_w;
      cells.push_back(mean(slice(band, 3, w0, w1), {2, 3}, /*keepdim=*/true));
    }
    rows.push_back(cat(cells, 3));
  }
  return cat(rows, 2);
}

}  // namespace selfsup::autograd
