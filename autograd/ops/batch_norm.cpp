// Differentiable batch norm. Training runs the backend's fused batch_norm_forward_train /
// batch_norm_backward pair (saving the batch mean and invstd) and updates the running
// statistics in place; eval is composed from core ops on the running statistics, so its
// gradient (w.r.t. x, weight, bias) comes for free. Letters: x [N, C] or [N, C, H, W].
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {
namespace {

using core::check;
using core::ShapeError;

// [1, C] or [1, C, 1, 1]: a per-channel tensor broadcast against x.
Shape channel_shape(const Variable& x) {
  Shape shape(static_cast<std::size_t>(x.dim()), 1);
  shape[1] = x.size(1);
  return shape;
}

void check_channel_arg(const char* arg, const Shape& shape, bool defined, const Variable& x) {
  if (!defined) return;
  check<ShapeError>(shape.size() == 1 && shape[0] == x.size(1),
                    std::string("batch_norm: ") + arg + " must have shape [" +
                        std::to_string(x.size(1)) + "] (" + arg + " has shape " +
                        core::to_string(shape) + ", x has shape " + core::to_string(x.shape()) +
                        ")");
}

}  // namespace

// Training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias with biased batch variance;
// running = (1 - momentum) running + momentum * stat (unbiased variance, n / (n - 1)).
// Eval: y = x * scale + shift, scale = weight / sqrt(running_var + eps), shift = bias -
// running_mean * scale. Gradients: backend batch_norm_backward (training), composed (eval).
// reference: https://pytorch.org/docs/stable/generated/torch.nn.BatchNorm2d.html
Variable batch_norm(const Variable& x, const Variable& weight, const Variable& bias,
                    Tensor running_mean, Tensor running_var, bool training, double momentum,
                    double eps) {
  check<ShapeError>(x.dim() >= 2 && x.dim() <= 4,
                    "batch_norm: x must be [N, C], [N, C, L] or [N, C, H, W] (x has shape " +
                        core::to_string(x.shape()) + ")");
  check_channel_arg("weight", weight.defined() ? weight.shape() : Shape{}, weight.defined(), x);
  check_channel_arg("bias", bias.defined() ? bias.shape() : Shape{}, bias.defined(), x);
  check_channel_arg("running_mean", running_mean.shape(), running_mean.defined(), x);
  check_channel_arg("running_var", running_var.shape(), running_var.defined(), x);
  check<core::ValueError>(running_mean.defined() == running_var.defined(),
                          "batch_norm: running_mean and running_var must be both defined or both "
                          "undefined");
  check<core::ValueError>(eps >= 0.0, "batch_norm: eps must be non-negative (eps " +
                                          std::to_string(eps) + ")");

  if (!training) {
    check<core::ValueError>(running_mean.defined(),
                            "batch_norm: eval mode needs running_mean and running_var");
    const Shape cshape = channel_shape(x);
    const Tensor invstd = core::rsqrt(core::add(running_var.to(x.dtype()), eps));
    const Tensor mean = running_mean.to(x.dtype());
    Variable scale = weight.defined() ? mul(weight, Variable(invstd)) : Variable(invstd);
    Variable shift = neg(mul(Variable(mean), scale));
    if (bias.defined()) shift = add(bias, shift);
    return add(mul(x, reshape(scale, cshape)), reshape(shift, cshape));
  }

  const std::int64_t count = x.numel() / x.size(1);  // values per channel
  check<core::ValueError>(count > 1,
                          "batch_norm: expected more than 1 value per channel when training (x has "
                          "shape " + core::to_string(x.shape()) + ")");
  core::BatchNormTrainResult r = core::batch_norm_forward_train(
      x.data(), weight.defined() ? weight.data() : Tensor(), bias.defined() ? bias.data() : Tensor(),
      eps);
  if (running_mean.defined()) {
    // NOTE: the batch variance is recovered from invstd: var = 1 / invstd^2 - eps (>= 0).
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    const Tensor batch_var =
        core::clamp(core::reciprocal(core::square(r.save_invstd)) - eps, 0.0, std::nullopt) * unbias;
    const auto update = [momentum](Tensor& running, const Tensor& stat) {
      running.copy_(running * (1.0 - momentum) + stat.to(running.dtype()) * momentum);
    };
    update(running_mean, r.save_mean);
    update(running_var, batch_var);
  }

  std::vector<Variable> inputs{x};
  const std::size_t weight_index = weight.defined() ? inputs.size() : 0;
  if (weight.defined()) inputs.push_back(weight);
  const std::size_t bias_index = bias.defined() ? inputs.size() : 0;
  if (bias.defined()) inputs.push_back(bias);
  return make_result(
      "batch_norm", r.out, std::move(inputs),
      [xd = x.data(), wd = weight.defined() ? weight.data() : Tensor(), mean = r.save_mean,
       invstd = r.save_invstd, weight_index, bias_index](const Tensor& dy, Gradients& grads) {
        const bool need_w = weight_index > 0 && grads.needs(weight_index);
        const bool need_b = bias_index > 0 && grads.needs(bias_index);
        if (!grads.needs(0) && !need_w && !need_b) return;
        const core::BatchNormGrads g =
            core::batch_norm_backward(dy.contiguous(), xd, wd, mean, invstd, need_w || need_b);
        if (grads.needs(0)) grads.accumulate(0, g.grad_input);
        if (need_w) grads.accumulate(weight_index, g.grad_weight);
        if (need_b) grads.accumulate(bias_index, g.grad_bias);
      });
}

}  // namespace selfsup::autograd
