// Output allocation and argument checks for the fused primitives (conv2d, pooling, batch norm);
// the arithmetic is in core/cpu/{conv2d,pool2d,batch_norm}.cpp and cuda/ with the same names.
#include <cmath>

#include "core/error.h"
#include "core/ops.h"

namespace selfsup::core {
namespace {

Backend& backend(const Tensor& t) { return backend_for(t.device()); }

std::string params_string(const Conv2dParams& p) {
  return "stride (" + std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w) + "), padding (" +
         std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w) + "), dilation (" + std::to_string(p.dilation_h) +
         ", " + std::to_string(p.dilation_w) + "), groups " + std::to_string(p.groups);
}

void check_float4d(const char* op, const Tensor& t, const char* arg) {
  check<ValueError>(t.defined(), std::string(op) + ": '" + arg + "' is undefined");
  check<ShapeError>(t.dim() == 4, std::string(op) + ": '" + arg + "' must be 4-d [N, C, H, W], got shape " +
                                      to_string(t.shape()));
  check<DTypeError>(is_floating(t.dtype()), std::string(op) + ": '" + arg + "' must be f32 or f64, got " +
                                                name(t.dtype()));
}

}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  check<ShapeError>(x.size() == 4 && w.size() == 4, "conv2d: expected 4-d input and weight, got " + to_string(x) +
                                                        " and " + to_string(w));
  check<ShapeError>(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 && p.dilation_w > 0 && p.pad_h >= 0 &&
                        p.pad_w >= 0 && p.groups > 0,
                    "conv2d: invalid parameters: " + params_string(p));
  check<ShapeError>(x[1] % p.groups == 0 && w[0] % p.groups == 0,
                    "conv2d: channels (input " + std::to_string(x[1]) + ", output " + std::to_string(w[0]) +
                        ") must be divisible by groups " + std::to_string(p.groups));
  check<ShapeError>(w[1] * p.groups == x[1], "conv2d: weight " + to_string(w) + " expects " +
                                                 std::to_string(w[1] * p.groups) + " input channels but input " +
                                                 to_string(x) + " has " + std::to_string(x[1]) + " (groups " +
                                                 std::to_string(p.groups) + ")");
  const std::int64_t h = (x[2] + 2 * p.pad_h - p.dilation_h * (w[2] - 1) - 1) / p.stride_h + 1;
  const std::int64_t ww = (x[3] + 2 * p.pad_w - p.dilation_w * (w[3] - 1) - 1) / p.stride_w + 1;
  check<ShapeError>(h > 0 && ww > 0 && x[2] + 2 * p.pad_h >= p.dilation_h * (w[2] - 1) + 1 &&
                        x[3] + 2 * p.pad_w >= p.dilation_w * (w[3] - 1) + 1,
                    "conv2d: input " + to_string(x) + " is smaller than the kernel " + to_string(w) + " with " +
                        params_string(p));
  return {x[0], w[0], h, ww};
}

Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  check_float4d("conv2d", x, "input");
  check_float4d("conv2d", weight, "weight");
  check_same_device("conv2d", {&x, &weight, &bias});
  check_same_dtype("conv2d", {&x, &weight, &bias});
  const Shape out_shape = conv2d_output_shape(x.shape(), weight.shape(), p);
  if (bias.defined())
    check<ShapeError>(bias.shape() == Shape{weight.size(0)}, "conv2d: bias has shape " + to_string(bias.shape()) +
                                                                 ", expected [" + std::to_string(weight.size(0)) + "]");
  Tensor out(out_shape, x.dtype(), x.device());
  if (out.numel() > 0)
    backend(x).conv2d_forward(x.contiguous(), weight.contiguous(), bias.defined() ? bias.contiguous() : bias, p, out);
  return out;
}

Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             const Conv2dParams& p) {
  check<ShapeError>(grad_out.shape() == conv2d_output_shape(input_shape, weight.shape(), p),
                    "conv2d_backward_input: grad_out shape " + to_string(grad_out.shape()) +
                        " does not match the forward output");
  Tensor grad_input(input_shape, grad_out.dtype(), grad_out.device());
  if (grad_input.numel() > 0) backend(grad_out).conv2d_backward_input(grad_out.contiguous(), weight.contiguous(), p, grad_input);
  return grad_input;
}

Tensor conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                              const Conv2dParams& p) {
  check<ShapeError>(grad_out.shape() == conv2d_output_shape(x.shape(), weight_shape, p),
                    "conv2d_backward_weight: grad_out shape " + to_string(grad_out.shape()) +
                        " does not match the forward output");
  Tensor grad_weight(weight_shape, grad_out.dtype(), grad_out.device());
  backend(grad_out).conv2d_backward_weight(grad_out.contiguous(), x.contiguous(), p, grad_weight);
  return grad_weight;
}

Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p, const char* op) {
  check<ShapeError>(x.size() == 4, std::string(op) + ": expected 4-d input [N, C, H, W], got " + to_string(x));
  check<ShapeError>(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0,
                    std::string(op) + ": kernel and stride must be positive");
  check<ShapeError>(p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w,
                    std::string(op) + ": padding must be at most half the kernel size (PyTorch's rule)");
  auto out_size = [&](std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t pad) {
    const std::int64_t span = in + 2 * pad - k;
    check<ShapeError>(span >= 0, std::string(op) + ": input " + to_string(x) + " is smaller than the kernel");
    std::int64_t o = (p.ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // PyTorch: the last window must start inside the input or its left padding.
    if (p.ceil_mode && (o - 1) * s >= in + pad) --o;
    return o;
  };
  return {x[0], x[1], out_size(x[2], p.kernel_h, p.stride_h, p.pad_h), out_size(x[3], p.kernel_w, p.stride_w, p.pad_w)};
}

std::pair<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  check_float4d("max_pool2d", x, "input");
  const Shape shape = pool2d_output_shape(x.shape(), p, "max_pool2d");
  Tensor out(shape, x.dtype(), x.device());
  Tensor indices(shape, DType::i64, x.device());
  if (out.numel() > 0) backend(x).max_pool2d_forward(x.contiguous(), p, out, indices);
  return {out, indices};
}

Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape) {
  check<ShapeError>(grad_out.shape() == indices.shape(), "max_pool2d_backward: grad_out " +
                                                             to_string(grad_out.shape()) + " and indices " +
                                                             to_string(indices.shape()) + " differ");
  Tensor grad_input(input_shape, grad_out.dtype(), grad_out.device());
  if (grad_input.numel() > 0) backend(grad_out).max_pool2d_backward(grad_out.contiguous(), indices.contiguous(), grad_input);
  return grad_input;
}

Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p) {
  check_float4d("avg_pool2d", x, "input");
  Tensor out(pool2d_output_shape(x.shape(), p, "avg_pool2d"), x.dtype(), x.device());
  if (out.numel() > 0) backend(x).avg_pool2d_forward(x.contiguous(), p, out);
  return out;
}

Tensor avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Shape& input_shape) {
  check<ShapeError>(grad_out.shape() == pool2d_output_shape(input_shape, p, "avg_pool2d_backward"),
                    "avg_pool2d_backward: grad_out shape " + to_string(grad_out.shape()) +
                        " does not match the forward output");
  Tensor grad_input(input_shape, grad_out.dtype(), grad_out.device());
  if (grad_input.numel() > 0) backend(grad_out).avg_pool2d_backward(grad_out.contiguous(), p, grad_input);
  return grad_input;
}

BatchNormTrainResult batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check<ValueError>(x.defined(), "batch_norm: input is undefined");
  check<ShapeError>(x.dim() >= 2, "batch_norm: input must be [N, C] or [N, C, *], got " + to_string(x.shape()));
  check<DTypeError>(is_floating(x.dtype()), "batch_norm: input must be f32 or f64");
  check_same_device("batch_norm", {&x, &weight, &bias});
  check_same_dtype("batch_norm", {&x, &weight, &bias});
  const std::int64_t c = x.size(1);
  for (const Tensor* t : {&weight, &bias})
    if (t->defined())
      check<ShapeError>(t->shape() == Shape{c}, "batch_norm: weight/bias have shape " + to_string(t->shape()) +
                                                    ", expected [" + std::to_string(c) + "]");
  check<ShapeError>(x.numel() / std::max<std::int64_t>(c, 1) > 1,
                    "batch_norm: expected more than 1 value per channel when training, got input " +
                        to_string(x.shape()));
  BatchNormTrainResult r{Tensor(x.shape(), x.dtype(), x.device()), Tensor({c}, x.dtype(), x.device()),
                         Tensor({c}, x.dtype(), x.device())};
  backend(x).batch_norm_forward_train(x.contiguous(), weight, bias, eps, r.out, r.save_mean, r.save_invstd);
  return r;
}

BatchNormGrads batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                   const Tensor& save_mean, const Tensor& save_invstd, bool need_weight_grads) {
  check<ShapeError>(grad_out.shape() == x.shape(), "batch_norm_backward: grad_out " + to_string(grad_out.shape()) +
                                                       " differs from input " + to_string(x.shape()));
  BatchNormGrads g;
  g.grad_input = Tensor(x.shape(), x.dtype(), x.device());
  if (need_weight_grads) {
    g.grad_weight = Tensor({x.size(1)}, x.dtype(), x.device());
    g.grad_bias = Tensor({x.size(1)}, x.dtype(), x.device());
  }
  backend(x).batch_norm_backward(grad_out.contiguous(), x.contiguous(), weight, save_mean, save_invstd, g.grad_input,
                                 g.grad_weight, g.grad_bias);
  return g;
}

}  // namespace selfsup::core
