// matmul and linear. Gradients: for y = a @ b, da = dy @ b^T, db = a^T @ dy (batch dims that
// were broadcast are summed back by Gradients::accumulate).
#include "autograd/functions.h"
#include "core/error.h"

namespace selfsup::autograd {

namespace c = selfsup::core;

// matmul: y = a @ b;  da = dy @ b^T, db = a^T @ dy  (1-d operands are promoted as torch.matmul)
Variable matmul(const Variable& a, const Variable& b) {
  const Tensor y = c::matmul(a.data(), b.data());
  return make_result("matmul", y, {a, b}, [ad = a.data(), bd = b.data()](const Tensor& dy, Gradients& g) {
    // Promote 1-d operands so the general formulas apply, then undo the promotion.
    const Tensor a2 = ad.dim() == 1 ? ad.unsqueeze(0) : ad;
    const Tensor b2 = bd.dim() == 1 ? bd.unsqueeze(1) : bd;
    Tensor dy2 = dy;
    if (ad.dim() == 1) dy2 = dy2.unsqueeze(-2);
    if (bd.dim() == 1) dy2 = dy2.unsqueeze(-1);
    if (g.needs(0)) {
      Tensor da = c::matmul(dy2, b2.transpose(-1, -2));
      if (ad.dim() == 1) da = da.reshape({-1, ad.size(0)}).contiguous();
      g.accumulate(0, ad.dim() == 1 ? c::sum(da, {0}) : da);
    }
    if (g.needs(1)) {
      Tensor db = c::matmul(a2.transpose(-1, -2), dy2);
      if (bd.dim() == 1) db = c::sum(db.reshape({-1, bd.size(0)}), {0});
      g.accumulate(1, db);
    }
  });
}

// linear: y = x W^T + b;  dx = dy W, dW = dy^T x (over all leading dims), db = sum dy
Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  core::check<core::ShapeError>(weight.dim() == 2, "linear: weight must be [out, in], got " + c::to_string(weight.shape()));
  core::check<core::ShapeError>(x.dim() >= 1 && x.size(-1) == weight.size(1),
                                "linear: input " + c::to_string(x.shape()) + " does not match weight " +
                                    c::to_string(weight.shape()) + " (last input dim must equal in_features)");
  if (bias.defined())
    core::check<core::ShapeError>(bias.shape() == Shape{weight.size(0)}, "linear: bias has shape " +
                                                                            c::to_string(bias.shape()) + ", expected [" +
                                                                            std::to_string(weight.size(0)) + "]");
  const std::int64_t in_features = weight.size(1), out_features = weight.size(0);
  const Tensor x2 = x.data().reshape({-1, in_features});
  Tensor y = c::matmul(x2, weight.data(), false, true);
  if (bias.defined()) y = c::add(y, bias.data());
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return make_result("linear", y.reshape(out_shape), inputs,
                     [x2, w = weight.data(), in_shape = x.shape(), out_features](const Tensor& dy, Gradients& g) {
                       const Tensor dy2 = dy.reshape({-1, out_features});
                       if (g.needs(0)) g.accumulate(0, c::matmul(dy2, w, false, false).reshape(in_shape));
                       if (g.needs(1)) g.accumulate(1, c::matmul(dy2, x2, true, false));
                       if (g.needs(2)) g.accumulate(2, c::sum(dy2, {0}));
                     });
}

}  // namespace selfsup::autograd
