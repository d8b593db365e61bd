// Differentiable reductions. `keepdim = false` results get their reduced axes re-inserted
// (as size 1) in backward so the gradient broadcasts back to the input.
#include <algorithm>
#include <limits>

#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

namespace {

// The shape of a reduction's result with keepdim = true.
Shape kept_shape(const Shape& in, const Axes& axes) {
  Shape s = in;
  if (axes.empty()) {
    std::fill(s.begin(), s.end(), 1);
    return s;
  }
  for (const auto a : axes) s[static_cast<std::size_t>(c::normalize_axis(a, in.size(), "reduce"))] = 1;
  return s;
}

// The shape of a reduction's result with keepdim = false.
Shape dropped_shape(const Shape& in, const Axes& axes) {
  Shape out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const bool reduced = axes.empty() || std::any_of(axes.begin(), axes.end(), [&](std::int64_t a) {
      return static_cast<std::size_t>(c::normalize_axis(a, in.size(), "reduce")) == i;
    });
    if (!reduced) out.push_back(in[i]);
  }
  return out;
}

std::int64_t reduced_count(const Shape& in, const Axes& axes) {
  const Shape kept = kept_shape(in, axes);
  const std::int64_t kept_n = c::numel(kept);
  return kept_n == 0 ? 0 : c::numel(in) / kept_n;
}

}  // namespace

// sum: y = sum_axes x;  dx = broadcast(dy)
Variable sum(const Variable& x, const Axes& axes, bool keepdim) {
  return make_result("sum", c::sum(x.data(), axes, keepdim), {x},
                     [in = x.shape(), axes](const Tensor& dy, Gradients& g) {
                       g.accumulate(0, dy.reshape(kept_shape(in, axes)).expand(in).contiguous());
                     });
}

// mean: y = sum_axes x / n;  dx = broadcast(dy) / n
Variable mean(const Variable& x, const Axes& axes, bool keepdim) {
  const std::int64_t n = reduced_count(x.shape(), axes);
  return make_result("mean", c::mean(x.data(), axes, keepdim), {x},
                     [in = x.shape(), axes, n](const Tensor& dy, Gradients& g) {
                       g.accumulate(0, c::mul(dy.reshape(kept_shape(in, axes)).expand(in), 1.0 / static_cast<double>(n)));
                     });
}

// max: y = max_axes x;  dx = dy * (x == y) / count(x == y)  (ties share the gradient, as amax)
Variable max(const Variable& x, const Axes& axes, bool keepdim) {
  const Tensor y_kept = c::amax(x.data(), axes, true);
  const Tensor y = keepdim ? y_kept : y_kept.reshape(dropped_shape(x.shape(), axes));
  return make_result("max", y, {x}, [xd = x.data(), y_kept, axes](const Tensor& dy, Gradients& g) {
    const Tensor hit = c::eq(xd, y_kept);
    const Tensor count = c::sum(hit, axes, true);
    g.accumulate(0, c::mul(c::div(hit, count), dy.reshape(y_kept.shape())));
  });
}

// logsumexp: y = m + log sum exp(x - m), m = max x;  dx = dy * exp(x - y)
Variable logsumexp(const Variable& x, const Axes& axes, bool keepdim) {
  const Tensor& xd = x.data();
  const Tensor m = c::amax(xd, axes, true);
  const Tensor inf = Tensor::full({}, std::numeric_limits<double>::infinity(), xd.dtype(), xd.device());
  // An all -inf (or +inf) slice would give inf - inf: shift by 0 there instead.
  const Tensor shift = c::where(c::eq(c::abs(m), inf), Tensor::zeros({}, xd.dtype(), xd.device()), m);
  const Tensor y_kept = c::add(c::log(c::sum(c::exp(c::sub(xd, shift)), axes, true)), shift);
  const Tensor y = keepdim ? y_kept : y_kept.reshape(dropped_shape(xd.shape(), axes));
  return make_result("logsumexp", y, {x}, [xd, y_kept](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::mul(dy.reshape(y_kept.shape()), c::exp(c::sub(xd, y_kept))));
  });
}

// var: y = sum (x - mean)^2 / (n - correction);  dx = dy * 2 (x - mean) / (n - correction)
Variable var(const Variable& x, const Axes& axes, bool unbiased, bool keepdim) {
  const std::int64_t n = reduced_count(x.shape(), axes);
  const double denom = static_cast<double>(n - (unbiased ? 1 : 0));
  const Tensor centered = c::sub(x.data(), c::mean(x.data(), axes, true));
  const Tensor y = c::mul(c::sum(c::square(centered), axes, keepdim), 1.0 / denom);
  return make_result("var", y, {x}, [centered, axes, denom](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::mul(c::mul(centered, dy.reshape(kept_shape(centered.shape(), axes))), 2.0 / denom));
  });
}

}  // namespace selfsup::autograd
