// Losses and normalisation, composed from differentiable ops (their gradients come for free),
// except kl_div, whose p log p term needs PyTorch's xlogy convention at p = 0.
// Shapes: logits [N, C], class targets i64 [N], probability targets [N, C].
#include <cmath>
#include <limits>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

namespace {

Variable reduce(const Variable& per_sample, Reduction reduction) {
  switch (reduction) {
    case Reduction::none: return per_sample;
    case Reduction::sum: return sum(per_sample);
    case Reduction::mean: return mean(per_sample);
  }
  return per_sample;
}

void check_logits(const char* op, const Variable& logits) {
  core::check<core::ShapeError>(logits.dim() == 2, std::string(op) + ": logits must be [N, C], got " +
                                                       c::to_string(logits.shape()));
}

void check_smoothing(const char* op, double label_smoothing) {
  core::check(label_smoothing >= 0.0 && label_smoothing <= 1.0,
              std::string(op) + ": label_smoothing must be in [0, 1], got " + std::to_string(label_smoothing));
}

}  // namespace

// cross_entropy (class indices): l_i = -(1 - e) log p_{i, t_i} - e/C sum_c log p_{i, c}
Variable cross_entropy(const Variable& logits, const Tensor& target, double label_smoothing, Reduction reduction) {
  check_logits("cross_entropy", logits);
  check_smoothing("cross_entropy", label_smoothing);
  core::check<core::ShapeError>(target.dim() == 1 && target.size(0) == logits.size(0),
                                "cross_entropy: target must be [N] = [" + std::to_string(logits.size(0)) + "], got " +
                                    c::to_string(target.shape()));
  core::check<core::DTypeError>(target.dtype() == DType::i64, std::string("cross_entropy: class targets must be i64, got ") +
                                                                  core::name(target.dtype()));
  const Variable log_p = log_softmax(logits, 1);
  Variable loss = neg(reshape(gather(log_p, 1, target.reshape({-1, 1})), {-1}));
  if (label_smoothing > 0.0) loss = loss * (1.0 - label_smoothing) - mean(log_p, {1}) * label_smoothing;
  return reduce(loss, reduction);
}

// cross_entropy (probabilities): l_i = -sum_c q_{i, c} log p_{i, c}, q = (1 - e) target + e / C
Variable cross_entropy(const Variable& logits, const Variable& target_probs, double label_smoothing,
                       Reduction reduction) {
  check_logits("cross_entropy", logits);
  check_smoothing("cross_entropy", label_smoothing);
  core::check<core::ShapeError>(target_probs.shape() == logits.shape(), "cross_entropy: soft target has shape " +
                                                                            c::to_string(target_probs.shape()) +
                                                                            ", expected " + c::to_string(logits.shape()));
  Variable q = target_probs;
  if (label_smoothing > 0.0)
    q = q * (1.0 - label_smoothing) + label_smoothing / static_cast<double>(logits.size(1));
  return reduce(neg(sum(q * log_softmax(logits, 1), {1})), reduction);
}

// kl_div: l = sum p (log p - log q), with 0 log 0 = 0;  d/dlog_q = -p, d/dp = log p + 1 - log q
Variable kl_div(const Variable& log_q, const Variable& p, Reduction reduction) {
  core::check<core::ShapeError>(log_q.shape() == p.shape(), "kl_div: input " + c::to_string(log_q.shape()) +
                                                                " and target " + c::to_string(p.shape()) + " differ");
  const Tensor& pd = p.data();
  const Tensor positive = c::gt(pd, 0.0);
  // xlogy(p, p): log is taken of max(p, tiny) and masked, so p = 0 gives exactly 0.
  const Tensor safe_log_p = c::log(c::clamp(pd, std::numeric_limits<double>::min(), std::nullopt));
  const Tensor pointwise = c::sub(c::mul(positive, c::mul(pd, safe_log_p)), c::mul(pd, log_q.data()));
  Variable elementwise = make_result("kl_div", pointwise, {log_q, p},
                                     [pd, safe_log_p, lq = log_q.data(), positive](const Tensor& dy, Gradients& g) {
                                       if (g.needs(0)) g.accumulate(0, c::neg(c::mul(dy, pd)));
                                       if (g.needs(1))
                                         g.accumulate(1, c::mul(dy, c::sub(c::mul(positive, c::add(safe_log_p, 1.0)), lq)));
                                     });
  switch (reduction) {
    case Reduction::none: return elementwise;
    case Reduction::sum: return sum(elementwise);
    case Reduction::mean: return sum(elementwise) / static_cast<double>(log_q.dim() == 0 ? 1 : log_q.size(0));
  }
  return elementwise;
}

// mse_loss: l = (a - b)^2
Variable mse_loss(const Variable& a, const Variable& b, Reduction reduction) {
  core::check<core::ShapeError>(a.shape() == b.shape(), "mse_loss: input " + c::to_string(a.shape()) + " and target " +
                                                            c::to_string(b.shape()) + " differ");
  const Variable d = a - b;
  const Variable squared = d * d;
  return reduction == Reduction::none ? squared : reduction == Reduction::sum ? sum(squared) : mean(squared);
}

// normalize: y = x / max(||x||_2, eps) along axis
Variable normalize(const Variable& x, std::int64_t axis, double eps) {
  const Variable norm = sqrt(sum(x * x, {axis}, true));
  return x / clamp(norm, eps, std::nullopt);
}

// cosine_similarity: sum(a / max(||a||, eps) * b / max(||b||, eps)) along axis
Variable cosine_similarity(const Variable& a, const Variable& b, std::int64_t axis, double eps) {
  return sum(normalize(a, axis, eps) * normalize(b, axis, eps), {axis});
}

}  // namespace selfsup::autograd
