// The public differentiable ops. Each is implemented in autograd/ops/<family>.cpp as one
// function: validation, forward, and the backward lambda directly below it.
// Axes may be negative. Broadcasting follows NumPy/PyTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "autograd/variable.h"
#include "core/backend.h"
#include "core/ops.h"

namespace selfsup::autograd {

using core::Axes;

// ---- elementwise (ops/elementwise.cpp) ----
Variable add(const Variable& a, const Variable& b);             // d/da = 1, d/db = 1
Variable sub(const Variable& a, const Variable& b);             // d/da = 1, d/db = -1
Variable mul(const Variable& a, const Variable& b);             // d/da = b, d/db = a
Variable div(const Variable& a, const Variable& b);             // d/da = 1/b, d/db = -a/b^2
Variable add(const Variable& a, double s);
Variable mul(const Variable& a, double s);
Variable neg(const Variable& x);                                 // -1
Variable exp(const Variable& x);                                 // y
Variable log(const Variable& x);                                 // 1/x
Variable sqrt(const Variable& x);                                // 1/(2y)
Variable pow(const Variable& x, double exponent);                // p x^(p-1)
Variable abs(const Variable& x);                                 // sign(x)
Variable clamp(const Variable& x, std::optional<double> min, std::optional<double> max);  // 1 inside
Variable relu(const Variable& x);                                // x > 0
Variable sigmoid(const Variable& x);                             // y (1 - y)
Variable tanh(const Variable& x);                                // 1 - y^2
Variable silu(const Variable& x);                                // s (1 + x (1 - s))
Variable hardsigmoid(const Variable& x);                         // relu6(x + 3) / 6; 1/6 inside (-3, 3)
Variable hardswish(const Variable& x);                           // x relu6(x + 3) / 6

Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator-(const Variable& x);
Variable operator+(const Variable& a, double s);
Variable operator+(double s, const Variable& a);
Variable operator-(const Variable& a, double s);
Variable operator-(double s, const Variable& a);
Variable operator*(const Variable& a, double s);
Variable operator*(double s, const Variable& a);
Variable operator/(const Variable& a, double s);

// ---- reductions (ops/reduce.cpp); empty axes = all ----
Variable sum(const Variable& x, const Axes& axes = {}, bool keepdim = false);
Variable mean(const Variable& x, const Axes& axes = {}, bool keepdim = false);
/// Max values; the gradient is split evenly between tied maxima (as torch.amax).
Variable max(const Variable& x, const Axes& axes = {}, bool keepdim = false);
Variable logsumexp(const Variable& x, const Axes& axes, bool keepdim = false);
/// Variance with Bessel's correction when `unbiased` (torch.var's default).
Variable var(const Variable& x, const Axes& axes, bool unbiased = true, bool keepdim = false);

// ---- shape (ops/shape.cpp) ----
Variable reshape(const Variable& x, const Shape& shape);
Variable flatten(const Variable& x, std::int64_t start_axis = 0, std::int64_t end_axis = -1);
Variable permute(const Variable& x, const std::vector<std::int64_t>& order);
Variable transpose(const Variable& x, std::int64_t a, std::int64_t b);
Variable slice(const Variable& x, std::int64_t axis, std::int64_t start, std::int64_t end,
               std::int64_t step = 1);
Variable unsqueeze(const Variable& x, std::int64_t axis);
Variable squeeze(const Variable& x, std::int64_t axis);
Variable expand(const Variable& x, const Shape& shape);
Variable cat(const std::vector<Variable>& xs, std::int64_t axis);
Variable stack(const std::vector<Variable>& xs, std::int64_t axis);
std::vector<Variable> chunk(const Variable& x, std::int64_t chunks, std::int64_t axis);
Variable index_select(const Variable& x, std::int64_t axis, const Tensor& idx);
Variable gather(const Variable& x, std::int64_t axis, const Tensor& idx);

// ---- linear algebra (ops/linear.cpp) ----
/// torch.matmul semantics: 2-d, batched, broadcast batch dims.
Variable matmul(const Variable& a, const Variable& b);
/// y = x W^T + b; x [*, in], weight [out, in], bias [out] or undefined.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = {});

// ---- convolution and pooling (ops/conv.cpp, ops/pool.cpp) ----
struct Conv2dOptions {
  std::int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
};
/// x [N, C, H, W], weight [K, C/groups, R, S], bias [K] or undefined.
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias,
                const core::Conv2dParams& params);
Variable conv2d(const Variable& x, const Variable& weight, const Variable& bias = {},
                Conv2dOptions options = {});
Variable max_pool2d(const Variable& x, std::int64_t kernel, std::int64_t stride,
                    std::int64_t padding = 0, bool ceil_mode = false);
Variable avg_pool2d(const Variable& x, std::int64_t kernel, std::int64_t stride,
                    std::int64_t padding = 0, bool ceil_mode = false, bool count_include_pad = true);
/// Output [N, C, out_h, out_w] with PyTorch's start/end window rule.
Variable adaptive_avg_pool2d(const Variable& x, std::int64_t out_h, std::int64_t out_w);

// ---- normalisation (ops/batch_norm.cpp) ----
/// x [N, C] or [N, C, H, W]. Training: batch statistics, and running_mean/var (if defined) are
/// updated in place with running = (1 - momentum) running + momentum * stat (unbiased var).
/// Eval: running statistics. weight/bias may be undefined (affine = false).
Variable batch_norm(const Variable& x, const Variable& weight, const Variable& bias,
                    Tensor running_mean, Tensor running_var, bool training, double momentum = 0.1,
                    double eps = 1e-5);

// ---- regularisation (ops/regularize.cpp) ----
/// Inverted dropout: zero with probability p, scale the rest by 1/(1-p); identity when !training.
Variable dropout(const Variable& x, double p, bool training, core::Generator& gen);
/// Stochastic depth: drop whole samples (axis 0) with probability p, scale by 1/(1-p).
Variable drop_path(const Variable& x, double p, bool training, core::Generator& gen);

// ---- softmax and losses (ops/softmax.cpp, ops/loss.cpp) ----
Variable softmax(const Variable& x, std::int64_t axis);
Variable log_softmax(const Variable& x, std::int64_t axis);
enum class Reduction { none, mean, sum };
/// logits [N, C]; target i64 [N] class indices. label_smoothing as torch.
Variable cross_entropy(const Variable& logits, const Tensor& target, double label_smoothing = 0.0,
                       Reduction reduction = Reduction::mean);
/// logits [N, C]; soft target probabilities [N, C] (a Variable, so it may carry gradient).
Variable cross_entropy(const Variable& logits, const Variable& target_probs,
                       double label_smoothing = 0.0, Reduction reduction = Reduction::mean);
/// torch.nn.functional.kl_div(input=log q, target=p): sum p (log p - log q); batchmean when
/// reduction is mean here (divides by N = size(0)). log_target = false.
Variable kl_div(const Variable& log_q, const Variable& p, Reduction reduction = Reduction::mean);
Variable mse_loss(const Variable& a, const Variable& b, Reduction reduction = Reduction::mean);
/// x / max(||x||_2, eps) along axis (F.normalize).
Variable normalize(const Variable& x, std::int64_t axis = 1, double eps = 1e-12);
/// F.cosine_similarity along axis with eps clamp on each norm.
Variable cosine_similarity(const Variable& a, const Variable& b, std::int64_t axis = 1,
                           double eps = 1e-8);

}  // namespace selfsup::autograd
