// Differentiable 2-d convolution on the backend's fused conv2d_forward / conv2d_backward_* pair.
// Letters: x [N, C, H, W], weight [K, C/groups, R, S], bias [K], y [N, K, P, Q].
// Saved for backward: x and weight (shared, not copied). The bias gradient is composed.
#include <cstdint>
#include <string>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {
namespace {

using core::check;
using core::ShapeError;

std::string shape_str(const Variable& v) { return core::to_string(v.shape()); }

void check_conv2d_args(const Variable& x, const Variable& weight, const Variable& bias,
                       const core::Conv2dParams& p) {
  check<ShapeError>(x.dim() == 4, "conv2d: x must be 4-d [N, C, H, W] (x has shape " +
                                      shape_str(x) + ")");
  check<ShapeError>(weight.dim() == 4, "conv2d: weight must be 4-d [K, C/groups, R, S] (weight has shape " +
                                           shape_str(weight) + ")");
  check<core::ValueError>(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 &&
                              p.dilation_w > 0 && p.pad_h >= 0 && p.pad_w >= 0 && p.groups > 0,
                          "conv2d: stride and dilation must be positive, padding non-negative and "
                          "groups positive (stride " + std::to_string(p.stride_h) + "x" +
                              std::to_string(p.stride_w) + ", padding " + std::to_string(p.pad_h) +
                              "x" + std::to_string(p.pad_w) + ", dilation " +
                              std::to_string(p.dilation_h) + "x" + std::to_string(p.dilation_w) +
                              ", groups " + std::to_string(p.groups) + ")");
  check<ShapeError>(x.size(1) % p.groups == 0 && weight.size(0) % p.groups == 0,
                    "conv2d: channels must be divisible by groups = " + std::to_string(p.groups) +
                        " (x has shape " + shape_str(x) + ", weight has shape " +
                        shape_str(weight) + ")");
  check<ShapeError>(weight.size(1) * p.groups == x.size(1),
                    "conv2d: weight expects " + std::to_string(weight.size(1) * p.groups) +
                        " input channels (weight has shape " + shape_str(weight) + ", groups " +
                        std::to_string(p.groups) + ") but x has shape " + shape_str(x));
  const std::int64_t P = (x.size(2) + 2 * p.pad_h - p.dilation_h * (weight.size(2) - 1) - 1) / p.stride_h + 1;
  const std::int64_t Q = (x.size(3) + 2 * p.pad_w - p.dilation_w * (weight.size(3) - 1) - 1) / p.stride_w + 1;
  check<ShapeError>(x.size(2) + 2 * p.pad_h >= p.dilation_h * (weight.size(2) - 1) + 1 &&
                        x.size(3) + 2 * p.pad_w >= p.dilation_w * (weight.size(3) - 1) + 1 && P > 0 && Q > 0,
                    "conv2d: the (dilated) kernel is larger than the padded input (x has shape " +
                        shape_str(x) + ", weight has shape " + shape_str(weight) + ", padding " +
                        std::to_string(p.pad_h) + "x" + std::to_string(p.pad_w) + ", dilation " +
                        std::to_string(p.dilation_h) + "x" + std::to_string(p.dilation_w) + ")");
  if (bias.defined()) {
    check<ShapeError>(bias.dim() == 1 && bias.size(0) == weight.size(0),
                      "conv2d: bias must have shape [" + std::to_string(weight.size(0)) +
                          "] (bias has shape " + shape_str(bias) + ", weight has shape " +
                          shape_str(weight) + ")");
  }
}

}  // namespace

// y[n, k] = bias[k] + sum_{c, r, s} weight[k, c, r, s] * x[n, g*C/G + c, p*sh - ph + r*dh, q*sw - pw + s*dw]
// dx = conv2d_backward_input(dy, weight), dweight = conv2d_backward_weight(dy, x),
// dbias = sum(dy, {0, 2, 3}).
// reference: https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                const core::Conv2dParams& params) {
  check_conv2d_args(x, weight, bias, params);
  const Tensor y = core::conv2d_forward(x.data(), weight.data(),
                                        bias.defined() ? bias.data() : Tensor(), params);
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return make_result(
      "conv2d", y, std::move(inputs),
      [xd = x.data(), wd = weight.data(), params](const Tensor& dy, Gradients& grads) {
        const Tensor g = dy.contiguous();
        if (grads.needs(0)) {
          grads.accumulate(0, core::conv2d_backward_input(g, wd, xd.shape(), params));
        }
        if (grads.needs(1)) {
          grads.accumulate(1, core::conv2d_backward_weight(g, xd, wd.shape(), params));
        }
        if (grads.needs(2)) grads.accumulate(2, core::sum(g, {0, 2, 3}));
      });
}

Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                Conv2dOptions options) {
  core::Conv2dParams p;
  p.stride_h = p.stride_w = options.stride;
  p.pad_h = p.pad_w = options.padding;
  p.dilation_h = p.dilation_w = options.dilation;
  p.groups = options.groups;
  return conv2d(x, weight, bias, p);
}

}  // namespace selfsup::autograd
