// Allocation, shape inference, broadcasting and validation for every core function; the
// arithmetic itself is the backend's. Composed functions (mean, sum_to, matmul broadcasting,
// cat) live here so every backend gets them for free.
#include "core/ops.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace selfsup::core {
namespace {

Backend& backend(const Tensor& t) { return backend_for(t.device()); }

void check_defined(const char* op, const Tensor& t, const char* arg) {
  check<ValueError>(t.defined(), std::string(op) + ": argument '" + arg + "' is an undefined tensor");
}

// Splits a contiguous tensor into [outer, size, inner] around `axis`.
struct AxisView {
  std::int64_t outer = 1, size = 1, inner = 1;
};
AxisView axis_view(const Shape& shape, int axis) {
  AxisView v;
  for (int i = 0; i < axis; ++i) v.outer *= shape[static_cast<std::size_t>(i)];
  v.size = shape.empty() ? 1 : shape[static_cast<std::size_t>(axis)];
  for (std::size_t i = static_cast<std::size_t>(axis) + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

// Sorted, unique, non-negative axes; empty input means all axes.
std::vector<int> normalize_axes(const Axes& axes, std::size_t rank, const char* op) {
  std::vector<int> out;
  if (axes.empty()) {
    out.resize(rank);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (const auto a : axes) out.push_back(normalize_axis(a, rank, op));
  std::sort(out.begin(), out.end());
  check<ShapeError>(std::adjacent_find(out.begin(), out.end()) == out.end(),
                    std::string(op) + ": an axis appears twice in the reduction axes");
  return out;
}

Tensor reduce_axes(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdim, const char* name) {
  check_defined(name, x, "x");
  const std::vector<int> red = normalize_axes(axes, x.shape().size(), name);
  Shape kept_shape = x.shape();
  for (const int a : red) kept_shape[static_cast<std::size_t>(a)] = 1;
  Shape out_shape;
  for (std::size_t i = 0; i < x.shape().size(); ++i)
    if (!std::binary_search(red.begin(), red.end(), static_cast<int>(i))) out_shape.push_back(x.shape()[i]);
  if (op != ReduceOp::sum) {
    for (const int a : red)
      check<ShapeError>(x.shape()[static_cast<std::size_t>(a)] > 0,
                        std::string(name) + ": cannot reduce over an empty axis of shape " + to_string(x.shape()));
  }
  Tensor src = x;
  if (!is_floating(src.dtype())) src = src.to(DType::f64);
  // Group: when the reduced axes are one contiguous run, no permutation is needed.
  const bool run = red.empty() || red.back() - red.front() + 1 == static_cast<int>(red.size());
  std::int64_t outer = 1, size = 1, inner = 1;
  if (run && !red.empty()) {
    src = src.contiguous();
    for (int i = 0; i < red.front(); ++i) outer *= x.shape()[static_cast<std::size_t>(i)];
    for (const int a : red) size *= x.shape()[static_cast<std::size_t>(a)];
    for (std::size_t i = static_cast<std::size_t>(red.back()) + 1; i < x.shape().size(); ++i) inner *= x.shape()[i];
  } else if (!red.empty()) {
    std::vector<std::int64_t> order;
    for (std::size_t i = 0; i < x.shape().size(); ++i)
      if (!std::binary_search(red.begin(), red.end(), static_cast<int>(i))) order.push_back(static_cast<std::int64_t>(i));
    for (const int a : red) order.push_back(a);
    src = src.permute(order).contiguous();
    outer = numel(out_shape);
    for (const int a : red) size *= x.shape()[static_cast<std::size_t>(a)];
  } else {
    src = src.contiguous();
    outer = src.numel();
  }
  Tensor out(keepdim ? kept_shape : out_shape, src.dtype(), x.device());
  if (out.numel() > 0) backend(x).reduce(op, src, outer, size, inner, out);
  return out;
}

}  // namespace

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr) first = t;
    check<DeviceError>(t->device() == first->device(), std::string(op) + ": tensors are on different devices (" +
                                                           first->device().to_string() + " and " +
                                                           t->device().to_string() + ")");
  }
}

void check_same_dtype(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (first == nullptr) first = t;
    check<DTypeError>(t->dtype() == first->dtype(), std::string(op) + ": dtypes differ (" + name(first->dtype()) +
                                                        " and " + name(t->dtype()) + ")");
  }
}

// ---------------------------------------------------------------- elementwise

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(name, a, "a");
  check_defined(name, b, "b");
  check_same_device(name, {&a, &b});
  check_same_dtype(name, {&a, &b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out(shape, a.dtype(), a.device());
  if (out.numel() > 0) backend(a).binary(op, a.expand(shape), b.expand(shape), out);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b, "add"); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b, "sub"); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b, "mul"); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, a, b, "div"); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::max, a, b, "maximum"); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::min, a, b, "minimum"); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(BinaryOp::pow, a, b, "pow"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::gt, a, b, "gt"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(BinaryOp::lt, a, b, "lt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary(BinaryOp::ge, a, b, "ge"); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary(BinaryOp::eq, a, b, "eq"); }
Tensor relu_backward(const Tensor& grad_out, const Tensor& out) {
  return binary(BinaryOp::relu_grad, grad_out, out, "relu_backward");
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond, "cond");
  check_defined("where", a, "a");
  check_defined("where", b, "b");
  check_same_device("where", {&cond, &a, &b});
  check_same_dtype("where", {&a, &b});
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out(shape, a.dtype(), a.device());
  if (out.numel() > 0) backend(a).where(cond.expand(shape), a.expand(shape), b.expand(shape), out);
  return out;
}

Tensor unary(UnaryOp op, const Tensor& x, double alpha, const char* name) {
  check_defined(name, x, "x");
  check<DTypeError>(is_floating(x.dtype()), std::string(name) + ": expected a floating tensor, got " +
                                                core::name(x.dtype()));
  Tensor out(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) backend(x).unary(op, x, out, alpha);
  return out;
}

Tensor add(const Tensor& a, double s) { return unary(UnaryOp::add_scalar, a, s, "add"); }
Tensor mul(const Tensor& a, double s) { return unary(UnaryOp::mul_scalar, a, s, "mul"); }
Tensor pow(const Tensor& a, double e) { return unary(UnaryOp::pow_scalar, a, e, "pow"); }
Tensor gt(const Tensor& a, double s) { return unary(UnaryOp::gt_scalar, a, s, "gt"); }
Tensor lt(const Tensor& a, double s) { return unary(UnaryOp::lt_scalar, a, s, "lt"); }
Tensor clamp(const Tensor& a, std::optional<double> lo, std::optional<double> hi) {
  check(!lo || !hi || *lo <= *hi, "clamp: min " + std::to_string(lo.value_or(0)) + " is greater than max " +
                                      std::to_string(hi.value_or(0)));
  Tensor out = a;
  if (lo) out = unary(UnaryOp::max_scalar, out, *lo, "clamp");
  if (hi) out = unary(UnaryOp::min_scalar, out, *hi, "clamp");
  return lo || hi ? out : a.clone();
}
Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, x, 0, "neg"); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::exp, x, 0, "exp"); }
Tensor log(const Tensor& x) { return unary(UnaryOp::log, x, 0, "log"); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::sqrt, x, 0, "sqrt"); }
Tensor rsqrt(const Tensor& x) { return unary(UnaryOp::rsqrt, x, 0, "rsqrt"); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::abs, x, 0, "abs"); }
Tensor sign(const Tensor& x) { return unary(UnaryOp::sign, x, 0, "sign"); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::relu, x, 0, "relu"); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::sigmoid, x, 0, "sigmoid"); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::tanh, x, 0, "tanh"); }
Tensor reciprocal(const Tensor& x) { return unary(UnaryOp::reciprocal, x, 0, "reciprocal"); }
Tensor square(const Tensor& x) { return unary(UnaryOp::square, x, 0, "square"); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
Tensor operator-(double s, const Tensor& a) { return add(neg(a), s); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
Tensor operator/(double s, const Tensor& a) { return mul(reciprocal(a), s); }

// ---------------------------------------------------------------- reductions

Tensor sum(const Tensor& x, const Axes& axes, bool keepdim) { return reduce_axes(ReduceOp::sum, x, axes, keepdim, "sum"); }
Tensor amax(const Tensor& x, const Axes& axes, bool keepdim) { return reduce_axes(ReduceOp::max, x, axes, keepdim, "amax"); }
Tensor amin(const Tensor& x, const Axes& axes, bool keepdim) { return reduce_axes(ReduceOp::min, x, axes, keepdim, "amin"); }

Tensor mean(const Tensor& x, const Axes& axes, bool keepdim) {
  Tensor s = sum(x, axes, keepdim);
  const std::int64_t count = s.numel() == 0 ? 0 : x.numel() / s.numel();
  return mul(s, count == 0 ? std::nan("") : 1.0 / static_cast<double>(count));
}

Tensor argmax(const Tensor& x, std::int64_t axis, bool keepdim) {
  check_defined("argmax", x, "x");
  const int a = normalize_axis(axis, x.shape().size(), "argmax");
  check<ShapeError>(x.shape().empty() || x.shape()[static_cast<std::size_t>(a)] > 0,
                    "argmax: cannot reduce an empty axis of shape " + to_string(x.shape()));
  const Tensor src = (is_floating(x.dtype()) ? x : x.to(DType::f64)).contiguous();
  const AxisView v = axis_view(src.shape(), a);
  Shape shape = x.shape();
  if (!shape.empty()) {
    if (keepdim) shape[static_cast<std::size_t>(a)] = 1;
    else shape.erase(shape.begin() + a);
  }
  Tensor out(shape, DType::i64, x.device());
  if (out.numel() > 0) backend(x).argmax(src, v.outer, v.size, v.inner, out);
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  check<ShapeError>(x.shape().size() >= shape.size(), "sum_to: cannot reduce " + to_string(x.shape()) + " to " +
                                                          to_string(shape));
  const std::size_t lead = x.shape().size() - shape.size();
  Axes axes;
  for (std::size_t i = 0; i < x.shape().size(); ++i) {
    if (i < lead) {
      axes.push_back(static_cast<std::int64_t>(i));
    } else if (shape[i - lead] == 1 && x.shape()[i] != 1) {
      axes.push_back(static_cast<std::int64_t>(i));
    } else {
      check<ShapeError>(shape[i - lead] == x.shape()[i], "sum_to: cannot reduce " + to_string(x.shape()) + " to " +
                                                             to_string(shape));
    }
  }
  if (axes.empty()) return x.reshape(shape);
  return sum(x, axes, true).reshape(shape);
}

static Tensor softmax_impl(const Tensor& x, std::int64_t axis, bool log, const char* name) {
  check_defined(name, x, "x");
  check<DTypeError>(is_floating(x.dtype()), std::string(name) + ": expected a floating tensor");
  const int a = normalize_axis(axis, x.shape().size(), name);
  const Tensor src = x.contiguous();
  const AxisView v = axis_view(src.shape(), a);
  Tensor out(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) backend(x).softmax(src, v.outer, v.size, v.inner, log, out);
  return out;
}
Tensor softmax(const Tensor& x, std::int64_t axis) { return softmax_impl(x, axis, false, "softmax"); }
Tensor log_softmax(const Tensor& x, std::int64_t axis) { return softmax_impl(x, axis, true, "log_softmax"); }

// ---------------------------------------------------------------- linear algebra

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  check_defined("matmul", a, "a");
  check_defined("matmul", b, "b");
  check_same_device("matmul", {&a, &b});
  check_same_dtype("matmul", {&a, &b});
  check<ShapeError>((a.dim() == 2 && b.dim() == 2) || (a.dim() == 3 && b.dim() == 3),
                    "matmul: expected two 2-d or two 3-d tensors, got " + to_string(a.shape()) + " and " +
                        to_string(b.shape()));
  const bool batched = a.dim() == 3;
  const Tensor a3 = (batched ? a : a.unsqueeze(0)).contiguous();
  const Tensor b3 = (batched ? b : b.unsqueeze(0)).contiguous();
  check<ShapeError>(a3.size(0) == b3.size(0), "matmul: batch sizes differ: " + to_string(a.shape()) + " and " +
                                                  to_string(b.shape()));
  const std::int64_t m = transpose_a ? a3.size(2) : a3.size(1);
  const std::int64_t ka = transpose_a ? a3.size(1) : a3.size(2);
  const std::int64_t kb = transpose_b ? b3.size(2) : b3.size(1);
  const std::int64_t n = transpose_b ? b3.size(1) : b3.size(2);
  check<ShapeError>(ka == kb, "matmul: inner dimensions differ (" + to_string(a.shape()) +
                                  (transpose_a ? "^T" : "") + " @ " + to_string(b.shape()) + (transpose_b ? "^T" : "") +
                                  ")");
  Tensor out({a3.size(0), m, n}, a.dtype(), a.device());
  if (out.numel() > 0) backend(a).matmul(a3, b3, out, transpose_a, transpose_b, 0.0);
  return batched ? out : out.squeeze(0);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined("matmul", a, "a");
  check_defined("matmul", b, "b");
  check<ShapeError>(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dimension, got " +
                                                      to_string(a.shape()) + " and " + to_string(b.shape()));
  if (a.dim() == 1 && b.dim() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1), false, false).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (a.dim() == 2 && b.dim() == 2) return matmul(a, b, false, false);
  const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  check<ShapeError>(b.size(-2) == k, "matmul: inner dimensions differ (" + to_string(a.shape()) + " @ " +
                                         to_string(b.shape()) + ")");
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  const Shape b_batch(b.shape().begin(), b.shape().end() - 2);
  if (b.dim() == 2) {  // fold a's batch into rows: one GEMM
    return matmul(a.reshape({-1, k}), b, false, false).reshape([&] {
      Shape s = a_batch;
      s.push_back(m);
      s.push_back(n);
      return s;
    }());
  }
  const Shape batch = broadcast_shapes(a_batch, b_batch, "matmul");
  Shape a_full = batch, b_full = batch, out_shape = batch;
  a_full.insert(a_full.end(), {m, k});
  b_full.insert(b_full.end(), {k, n});
  out_shape.insert(out_shape.end(), {m, n});
  const Tensor a3 = a.expand(a_full).contiguous().reshape({-1, m, k});
  const Tensor b3 = b.expand(b_full).contiguous().reshape({-1, k, n});
  return matmul(a3, b3, false, false).reshape(out_shape);
}

// ---------------------------------------------------------------- joining

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis) {
  check<ShapeError>(!tensors.empty(), "cat: expected at least one tensor");
  const Tensor& first = tensors.front();
  check_defined("cat", first, "tensors[0]");
  const int a = normalize_axis(axis, first.shape().size(), "cat");
  Shape shape = first.shape();
  shape[static_cast<std::size_t>(a)] = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_defined("cat", t, "tensors[i]");
    check_same_device("cat", {&first, &t});
    check_same_dtype("cat", {&first, &t});
    bool ok = t.shape().size() == first.shape().size();
    for (std::size_t d = 0; ok && d < shape.size(); ++d)
      ok = static_cast<int>(d) == a || t.shape()[d] == first.shape()[d];
    check<ShapeError>(ok, "cat: tensor " + std::to_string(i) + " has shape " + to_string(t.shape()) +
                              ", incompatible with " + to_string(first.shape()) + " along axis " + std::to_string(a));
    shape[static_cast<std::size_t>(a)] += t.shape()[static_cast<std::size_t>(a)];
  }
  Tensor out(shape, first.dtype(), first.device());
  std::int64_t at = 0;
  for (const Tensor& t : tensors) {
    const std::int64_t n = t.shape()[static_cast<std::size_t>(a)];
    if (n == 0) continue;
    Tensor part = out.slice(a, at, at + n);
    // part is a strided view of out: copy through a contiguous temporary when needed.
    if (part.is_contiguous()) {
      backend(out).copy(t, part);
    } else {
      Tensor dense = t.contiguous();
      const Tensor& src = dense;
      // Strided destination: copy row blocks [outer, n*inner] one outer index at a time.
      const AxisView v = axis_view(shape, a);
      for (std::int64_t o = 0; o < v.outer; ++o) {
        Tensor dst_block = Tensor(out.storage(), {n * v.inner}, {1}, o * v.size * v.inner + at * v.inner, out.dtype());
        Tensor src_block = Tensor(src.storage(), {n * v.inner}, {1}, src.offset() + o * n * v.inner, src.dtype());
        backend(out).copy(src_block, dst_block);
      }
    }
    at += n;
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis) {
  check<ShapeError>(!tensors.empty(), "stack: expected at least one tensor");
  const int a = normalize_axis(axis < 0 ? axis + tensors.front().dim() + 1 : axis, tensors.front().shape().size() + 1,
                               "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check<ShapeError>(tensors[i].shape() == tensors.front().shape(),
                      "stack: tensor " + std::to_string(i) + " has shape " + to_string(tensors[i].shape()) +
                          ", expected " + to_string(tensors.front().shape()));
    parts.push_back(tensors[i].unsqueeze(a));
  }
  return cat(parts, a);
}

// ---------------------------------------------------------------- indexing

namespace {
void check_indices(const char* op, const Tensor& idx, std::int64_t n) {
  check<DTypeError>(idx.dtype() == DType::i64, std::string(op) + ": indices must be i64, got " + name(idx.dtype()));
  const Tensor host = idx.to(Device::cpu()).contiguous();
  const std::int64_t* p = host.data<std::int64_t>();
  for (std::int64_t i = 0; i < host.numel(); ++i)
    check<ShapeError>(p[i] >= 0 && p[i] < n, std::string(op) + ": index " + std::to_string(p[i]) + " at position " +
                                                 std::to_string(i) + " is out of range [0, " + std::to_string(n) + ")");
}
}  // namespace

Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& idx) {
  check_defined("index_select", x, "x");
  check_defined("index_select", idx, "idx");
  check<ShapeError>(idx.dim() == 1, "index_select: indices must be 1-d, got " + to_string(idx.shape()));
  const int a = normalize_axis(axis, x.shape().size(), "index_select");
  check_indices("index_select", idx, x.shape()[static_cast<std::size_t>(a)]);
  const Tensor src = x.contiguous();
  const AxisView v = axis_view(src.shape(), a);
  Shape shape = x.shape();
  shape[static_cast<std::size_t>(a)] = idx.numel();
  Tensor out(shape, x.dtype(), x.device());
  if (out.numel() > 0) backend(x).index_select(src, v.outer, v.inner, idx.contiguous(), out);
  return out;
}

Tensor index_add(const Tensor& x, std::int64_t axis, const Tensor& idx, const Tensor& src) {
  check_defined("index_add", x, "x");
  const int a = normalize_axis(axis, x.shape().size(), "index_add");
  check<ShapeError>(idx.dim() == 1, "index_add: indices must be 1-d, got " + to_string(idx.shape()));
  Shape expected = x.shape();
  expected[static_cast<std::size_t>(a)] = idx.numel();
  check<ShapeError>(src.shape() == expected, "index_add: source has shape " + to_string(src.shape()) + ", expected " +
                                                 to_string(expected));
  check_indices("index_add", idx, x.shape()[static_cast<std::size_t>(a)]);
  Tensor out = x.clone();
  const AxisView v = axis_view(out.shape(), a);
  if (src.numel() > 0) backend(x).index_add(out, v.outer, v.inner, idx.contiguous(), src.contiguous());
  return out;
}

Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& idx) {
  check_defined("gather", x, "x");
  check_defined("gather", idx, "idx");
  const int a = normalize_axis(axis, x.shape().size(), "gather");
  bool ok = idx.dim() == x.dim();
  for (int d = 0; ok && d < x.dim(); ++d) ok = d == a || idx.size(d) == x.size(d);
  check<ShapeError>(ok, "gather: index shape " + to_string(idx.shape()) + " must match input " + to_string(x.shape()) +
                            " except along axis " + std::to_string(a));
  check_indices("gather", idx, x.shape()[static_cast<std::size_t>(a)]);
  const Tensor src = x.contiguous();
  const AxisView v = axis_view(src.shape(), a);
  Tensor out(idx.shape(), x.dtype(), x.device());
  if (out.numel() > 0) backend(x).gather(src, v.outer, v.inner, idx.contiguous(), out);
  return out;
}

Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& idx, const Tensor& src) {
  check_defined("scatter_add", x, "x");
  const int a = normalize_axis(axis, x.shape().size(), "scatter_add");
  bool ok = idx.dim() == x.dim() && src.shape() == idx.shape();
  for (int d = 0; ok && d < x.dim(); ++d) ok = d == a || idx.size(d) == x.size(d);
  check<ShapeError>(ok, "scatter_add: index " + to_string(idx.shape()) + " and source " + to_string(src.shape()) +
                            " must match each other and input " + to_string(x.shape()) + " except along axis " +
                            std::to_string(a));
  check_indices("scatter_add", idx, x.shape()[static_cast<std::size_t>(a)]);
  Tensor out = x.clone();
  const AxisView v = axis_view(out.shape(), a);
  if (src.numel() > 0) backend(x).scatter_add(out, v.outer, v.inner, idx.contiguous(), src.contiguous());
  return out;
}

Tensor one_hot(const Tensor& labels, std::int64_t classes, DType dtype) {
  check<ShapeError>(labels.dim() == 1, "one_hot: labels must be 1-d, got " + to_string(labels.shape()));
  check_indices("one_hot", labels, classes);
  Tensor out = Tensor::zeros({labels.size(0), classes}, dtype, labels.device());
  return scatter_add(out, 1, labels.reshape({-1, 1}), Tensor::ones({labels.size(0), 1}, dtype, labels.device()));
}

Tensor bernoulli(const Shape& shape, double p, Generator& gen, DType dtype, Device device) {
  check(p >= 0.0 && p <= 1.0, "bernoulli: probability must be in [0, 1], got " + std::to_string(p));
  Tensor out(shape, dtype, device);
  backend_for(device).random(Distribution::bernoulli, gen, p, 0.0, out);
  return out;
}

// ---------------------------------------------------------------- comparison

double max_abs_diff(const Tensor& a, const Tensor& b) {
  check<ShapeError>(a.shape() == b.shape(), "max_abs_diff: shapes differ: " + to_string(a.shape()) + " and " +
                                                to_string(b.shape()));
  const auto av = a.to_vector<double>();
  const auto bv = b.to_vector<double>();
  double worst = 0.0;
  for (std::size_t i = 0; i < av.size(); ++i) {
    const double d = std::abs(av[i] - bv[i]);
    if (std::isnan(d)) return d;
    worst = std::max(worst, d);
  }
  return worst;
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const auto av = a.to_vector<double>();
  const auto bv = b.to_vector<double>();
  for (std::size_t i = 0; i < av.size(); ++i)
    if (!(std::abs(av[i] - bv[i]) <= atol + rtol * std::abs(bv[i]))) return false;
  return true;
}

}  // namespace selfsup::core
