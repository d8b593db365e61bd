// Dropout and stochastic depth (drop path): masks are drawn from the caller's Generator, so a
// run is reproducible from its seed.
#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

// dropout: y = x * m / (1 - p), m ~ Bernoulli(1 - p) per element;  dx = dy * m / (1 - p)
Variable dropout(const Variable& x, double p, bool training, core::Generator& gen) {
  core::check(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got " + std::to_string(p));
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  const Tensor mask = c::mul(c::bernoulli(x.shape(), 1.0 - p, gen, x.dtype(), x.device()), 1.0 / (1.0 - p));
  return make_result("dropout", c::mul(x.data(), mask), {x},
                     [mask](const Tensor& dy, Gradients& g) { g.accumulate(0, c::mul(dy, mask)); });
}

// drop_path: y = x * m_n / (1 - p), m_n ~ Bernoulli(1 - p) per sample (axis 0)
Variable drop_path(const Variable& x, double p, bool training, core::Generator& gen) {
  core::check(p >= 0.0 && p <= 1.0, "drop_path: probability must be in [0, 1], got " + std::to_string(p));
  core::check<core::ShapeError>(x.dim() >= 1, "drop_path: input must have a batch axis");
  if (!training || p == 0.0) return x;
  Shape mask_shape(static_cast<std::size_t>(x.dim()), 1);
  mask_shape[0] = x.size(0);
  const Tensor mask = c::mul(c::bernoulli(mask_shape, 1.0 - p, gen, x.dtype(), x.device()), p == 1.0 ? 0.0 : 1.0 / (1.0 - p));
  return make_result("drop_path", c::mul(x.data(), mask), {x},
                     [mask](const Tensor& dy, Gradients& g) { g.accumulate(0, c::mul(dy, mask)); });
}

}  // namespace selfsup::autograd
