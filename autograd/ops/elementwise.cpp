// Elementwise differentiable ops. Each: forward with core functions, then the backward lambda
// right below it. Broadcast inputs get their gradient summed back by Gradients::accumulate.
#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

// add: y = a + b;  da = dy, db = dy
Variable add(const Variable& a, const Variable& b) {
  return make_result("add", c::add(a.data(), b.data()), {a, b}, [](const Tensor& dy, Gradients& g) {
    g.accumulate(0, dy);
    g.accumulate(1, dy);
  });
}

// sub: y = a - b;  da = dy, db = -dy
Variable sub(const Variable& a, const Variable& b) {
  return make_result("sub", c::sub(a.data(), b.data()), {a, b}, [](const Tensor& dy, Gradients& g) {
    g.accumulate(0, dy);
    if (g.needs(1)) g.accumulate(1, c::neg(dy));
  });
}

// mul: y = a * b;  da = dy * b, db = dy * a
Variable mul(const Variable& a, const Variable& b) {
  return make_result("mul", c::mul(a.data(), b.data()), {a, b},
                     [ad = a.data(), bd = b.data()](const Tensor& dy, Gradients& g) {
                       if (g.needs(0)) g.accumulate(0, c::mul(dy, bd));
                       if (g.needs(1)) g.accumulate(1, c::mul(dy, ad));
                     });
}

// div: y = a / b;  da = dy / b, db = -dy * y / b
Variable div(const Variable& a, const Variable& b) {
  const Tensor y = c::div(a.data(), b.data());
  return make_result("div", y, {a, b}, [y, bd = b.data()](const Tensor& dy, Gradients& g) {
    if (g.needs(0)) g.accumulate(0, c::div(dy, bd));
    if (g.needs(1)) g.accumulate(1, c::neg(c::div(c::mul(dy, y), bd)));
  });
}

// add scalar: y = a + s;  da = dy
Variable add(const Variable& a, double s) {
  return make_result("add_scalar", c::add(a.data(), s), {a}, [](const Tensor& dy, Gradients& g) { g.accumulate(0, dy); });
}

// mul scalar: y = a * s;  da = dy * s
Variable mul(const Variable& a, double s) {
  return make_result("mul_scalar", c::mul(a.data(), s), {a},
                     [s](const Tensor& dy, Gradients& g) { g.accumulate(0, c::mul(dy, s)); });
}

// neg: y = -x;  dx = -dy
Variable neg(const Variable& x) {
  return make_result("neg", c::neg(x.data()), {x}, [](const Tensor& dy, Gradients& g) { g.accumulate(0, c::neg(dy)); });
}

// exp: y = e^x;  dx = dy * y
Variable exp(const Variable& x) {
  const Tensor y = c::exp(x.data());
  return make_result("exp", y, {x}, [y](const Tensor& dy, Gradients& g) { g.accumulate(0, c::mul(dy, y)); });
}

// log: y = ln x;  dx = dy / x
Variable log(const Variable& x) {
  return make_result("log", c::log(x.data()), {x},
                     [xd = x.data()](const Tensor& dy, Gradients& g) { g.accumulate(0, c::div(dy, xd)); });
}

// sqrt: y = sqrt(x);  dx = dy / (2 y)
Variable sqrt(const Variable& x) {
  const Tensor y = c::sqrt(x.data());
  return make_result("sqrt", y, {x},
                     [y](const Tensor& dy, Gradients& g) { g.accumulate(0, c::div(c::mul(dy, 0.5), y)); });
}

// pow: y = x^p;  dx = dy * p * x^(p-1)
Variable pow(const Variable& x, double p) {
  return make_result("pow", c::pow(x.data(), p), {x}, [xd = x.data(), p](const Tensor& dy, Gradients& g) {
    if (p == 0.0) return g.accumulate(0, c::mul(dy, 0.0));
    g.accumulate(0, c::mul(dy, c::mul(c::pow(xd, p - 1.0), p)));
  });
}

// abs: y = |x|;  dx = dy * sign(x)  (0 at x = 0, as PyTorch)
Variable abs(const Variable& x) {
  return make_result("abs", c::abs(x.data()), {x},
                     [xd = x.data()](const Tensor& dy, Gradients& g) { g.accumulate(0, c::mul(dy, c::sign(xd))); });
}

// clamp: y = min(max(x, lo), hi);  dx = dy where lo <= x <= hi (PyTorch passes the gradient at
// the bounds), else 0
Variable clamp(const Variable& x, std::optional<double> lo, std::optional<double> hi) {
  return make_result("clamp", c::clamp(x.data(), lo, hi), {x}, [xd = x.data(), lo, hi](const Tensor& dy, Gradients& g) {
    Tensor mask = Tensor::ones(xd.shape(), xd.dtype(), xd.device());
    if (lo) mask = c::mul(mask, c::sub(Tensor::ones({}, xd.dtype(), xd.device()), c::lt(xd, *lo)));
    if (hi) mask = c::mul(mask, c::sub(Tensor::ones({}, xd.dtype(), xd.device()), c::gt(xd, *hi)));
    g.accumulate(0, c::mul(dy, mask));
  });
}

// relu: y = max(x, 0);  dx = dy * (x > 0)
Variable relu(const Variable& x) {
  const Tensor y = c::relu(x.data());
  return make_result("relu", y, {x}, [y](const Tensor& dy, Gradients& g) { g.accumulate(0, c::relu_backward(dy, y)); });
}

// sigmoid: y = 1 / (1 + e^-x);  dx = dy * y (1 - y)
Variable sigmoid(const Variable& x) {
  const Tensor y = c::sigmoid(x.data());
  return make_result("sigmoid", y, {x}, [y](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::mul(dy, c::mul(y, c::add(c::neg(y), 1.0))));
  });
}

// tanh: y = tanh x;  dx = dy * (1 - y^2)
Variable tanh(const Variable& x) {
  const Tensor y = c::tanh(x.data());
  return make_result("tanh", y, {x}, [y](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::mul(dy, c::add(c::neg(c::square(y)), 1.0)));
  });
}

// silu: y = x s, s = sigmoid(x);  dx = dy * s (1 + x (1 - s))
Variable silu(const Variable& x) {
  const Tensor s = c::sigmoid(x.data());
  return make_result("silu", c::mul(x.data(), s), {x}, [xd = x.data(), s](const Tensor& dy, Gradients& g) {
    g.accumulate(0, c::mul(dy, c::mul(s, c::add(c::mul(xd, c::add(c::neg(s), 1.0)), 1.0))));
  });
}

// hardsigmoid: y = clamp(x / 6 + 1/2, 0, 1);  dx = dy / 6 for -3 < x < 3, else 0
Variable hardsigmoid(const Variable& x) {
  const Tensor y = c::clamp(c::add(c::mul(x.data(), 1.0 / 6.0), 0.5), 0.0, 1.0);
  return make_result("hardsigmoid", y, {x}, [xd = x.data()](const Tensor& dy, Gradients& g) {
    const Tensor inside = c::mul(c::gt(xd, -3.0), c::lt(xd, 3.0));
    g.accumulate(0, c::mul(dy, c::mul(inside, 1.0 / 6.0)));
  });
}

// hardswish: y = x * clamp(x + 3, 0, 6) / 6;  dx = dy * (0 if x < -3, 1 if x > 3, else x/3 + 1/2)
// (PyTorch's boundary convention: x = -3 and x = 3 use the middle formula)
Variable hardswish(const Variable& x) {
  const Tensor y = c::mul(x.data(), c::mul(c::clamp(c::add(x.data(), 3.0), 0.0, 6.0), 1.0 / 6.0));
  return make_result("hardswish", y, {x}, [xd = x.data()](const Tensor& dy, Gradients& g) {
    const Tensor below = c::lt(xd, -3.0);
    const Tensor above = c::gt(xd, 3.0);
    const Tensor middle = c::mul(c::add(c::neg(below), 1.0), c::add(c::neg(above), 1.0));
    const Tensor slope = c::add(c::mul(middle, c::add(c::mul(xd, 1.0 / 3.0), 0.5)), above);
    g.accumulate(0, c::mul(dy, slope));
  });
}

Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }
Variable operator-(const Variable& x) { return neg(x); }
Variable operator+(const Variable& a, double s) { return add(a, s); }
Variable operator+(double s, const Variable& a) { return add(a, s); }
Variable operator-(const Variable& a, double s) { return add(a, -s); }
Variable operator-(double s, const Variable& a) { return add(neg(a), s); }
Variable operator*(const Variable& a, double s) { return mul(a, s); }
Variable operator*(double s, const Variable& a) { return mul(a, s); }
Variable operator/(const Variable& a, double s) { return mul(a, 1.0 / s); }

}  // namespace selfsup::autograd
