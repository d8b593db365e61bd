// softmax and log_softmax: the forward is the backend primitive, the backward is composed.
#include "autograd/functions.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

// softmax: y = exp(x - lse(x));  dx = y * (dy - sum(dy * y))
Variable softmax(const Variable& x, std::int64_t axis) {
  const Tensor y = c::softmax(x.data(), axis);
  return make_result("softmax", y, {x}, [y, axis](const Tensor& dy, Gradients& g) {
    const Tensor dot = c::sum(c::mul(dy, y), {axis}, true);
    g.accumulate(0, c::mul(y, c::sub(dy, dot)));
  });
}

// log_softmax: y = x - lse(x);  dx = dy - exp(y) * sum(dy)
Variable log_softmax(const Variable& x, std::int64_t axis) {
  const Tensor y = c::log_softmax(x.data(), axis);
  return make_result("log_softmax", y, {x}, [y, axis](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::sub(dy, c::mul(c::exp(y), c::sum(dy, {axis}, true))));
  });
}

}  // namespace selfsup::autograd
