// Elementwise primitives: unary (with a scalar operand), binary and where, over broadcast views.
// Unary ops run on Eigen arrays (vectorised exp/log/tanh); binary ops go row by row with broadcast strides.
#include <Eigen/Core>
#include <cmath>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided.h"
#include "core/error.h"

namespace selfsup::core::cpu {
namespace {

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Applies `block` (Eigen arrays in, Eigen arrays out) over parallel chunks.
template <typename T, typename Block>
void unary_kernel(const Tensor& x, Tensor& out, Block block) {
  // Strided inputs are made dense first so every layout goes through the same (vectorised)
  // code and gives bitwise the same results.
  const Tensor dense = x.contiguous();
  const T* xp = dense.data<T>();
  T* op = out.data<T>();
  parallel_chunks(out.numel(), [&](std::int64_t b, std::int64_t e) {
    ArrayMap<T> o(op + b, e - b);
    block(ConstArrayMap<T>(xp + b, e - b), o);
  });
}

template <typename T, typename Scalar>
void unary_scalar_only(const Tensor& x, Tensor& out, Scalar scalar) {
  unary_kernel<T>(x, out, [&](const auto& in, auto& o) {
    for (Eigen::Index i = 0; i < in.size(); ++i) o[i] = scalar(in[i]);
  });
}

template <typename T>
void unary_typed(UnaryOp op, const Tensor& x, Tensor& out, T alpha) {
  switch (op) {
    case UnaryOp::neg: return unary_scalar_only<T>(x, out, [](T v) { return -v; });
    case UnaryOp::exp:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = in.exp(); });
    case UnaryOp::log:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = in.log(); });
    case UnaryOp::sqrt:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = in.sqrt(); });
    case UnaryOp::rsqrt:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = in.rsqrt(); });
    case UnaryOp::abs: return unary_scalar_only<T>(x, out, [](T v) { return std::abs(v); });
    case UnaryOp::sign: return unary_scalar_only<T>(x, out, [](T v) { return T((v > 0) - (v < 0)); });
    case UnaryOp::relu: return unary_scalar_only<T>(x, out, [](T v) { return v < 0 ? T(0) : v; });
    case UnaryOp::sigmoid:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = T(1) / (T(1) + (-in).exp()); });
    case UnaryOp::tanh:
      return unary_kernel<T>(x, out, [](const auto& in, auto& o) { o = in.tanh(); });
    case UnaryOp::reciprocal: return unary_scalar_only<T>(x, out, [](T v) { return T(1) / v; });
    case UnaryOp::square: return unary_scalar_only<T>(x, out, [](T v) { return v * v; });
    case UnaryOp::add_scalar: return unary_scalar_only<T>(x, out, [alpha](T v) { return v + alpha; });
    case UnaryOp::mul_scalar: return unary_scalar_only<T>(x, out, [alpha](T v) { return v * alpha; });
    case UnaryOp::pow_scalar:
      if (alpha == T(2)) return unary_scalar_only<T>(x, out, [](T v) { return v * v; });
      return unary_scalar_only<T>(x, out, [alpha](T v) { return std::pow(v, alpha); });
    case UnaryOp::max_scalar:
      return unary_scalar_only<T>(x, out, [alpha](T v) { return std::isnan(v) || v >= alpha ? v : alpha; });
    case UnaryOp::min_scalar:
      return unary_scalar_only<T>(x, out, [alpha](T v) { return std::isnan(v) || v <= alpha ? v : alpha; });
    case UnaryOp::gt_scalar: return unary_scalar_only<T>(x, out, [alpha](T v) { return T(v > alpha); });
    case UnaryOp::lt_scalar: return unary_scalar_only<T>(x, out, [alpha](T v) { return T(v < alpha); });
  }
}

template <typename T, typename Fn>
void binary_kernel(const Tensor& a, const Tensor& b, Tensor& out, Fn fn) {
  const T* ap = static_cast<const T*>(a.storage()->data()) + a.offset();
  const T* bp = static_cast<const T*>(b.storage()->data()) + b.offset();
  T* op = out.data<T>();
  if (a.is_contiguous() && b.is_contiguous()) {
    parallel_chunks(out.numel(), [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t i = s; i < e; ++i) op[i] = fn(ap[i], bp[i]);
    });
    return;
  }
  const Strides out_strides = contiguous_strides(out.shape());
  for_each_row<3>(out.shape(), {&a.strides(), &b.strides(), &out_strides},
                  [&](const auto& off, std::int64_t n, const auto& inc) {
                    const T* ar = ap + off[0];
                    const T* br = bp + off[1];
                    T* orow = op + off[2];
                    if (inc[0] == 1 && inc[1] == 1) {
                      for (std::int64_t i = 0; i < n; ++i) orow[i] = fn(ar[i], br[i]);
                    } else if (inc[0] == 1 && inc[1] == 0) {
                      const T bv = *br;
                      for (std::int64_t i = 0; i < n; ++i) orow[i] = fn(ar[i], bv);
                    } else if (inc[0] == 0 && inc[1] == 1) {
                      const T av = *ar;
                      for (std::int64_t i = 0; i < n; ++i) orow[i] = fn(av, br[i]);
                    } else {
                      for (std::int64_t i = 0; i < n; ++i) orow[i] = fn(ar[i * inc[0]], br[i * inc[1]]);
                    }
                  });
}

template <typename T>
void binary_typed(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  switch (op) {
    case BinaryOp::add: return binary_kernel<T>(a, b, out, [](T x, T y) { return x + y; });
    case BinaryOp::sub: return binary_kernel<T>(a, b, out, [](T x, T y) { return x - y; });
    case BinaryOp::mul: return binary_kernel<T>(a, b, out, [](T x, T y) { return x * y; });
    case BinaryOp::div: return binary_kernel<T>(a, b, out, [](T x, T y) { return x / y; });
    case BinaryOp::max:
      return binary_kernel<T>(a, b, out, [](T x, T y) { return std::isnan(x) || x >= y ? x : y; });
    case BinaryOp::min:
      return binary_kernel<T>(a, b, out, [](T x, T y) { return std::isnan(x) || x <= y ? x : y; });
    case BinaryOp::pow: return binary_kernel<T>(a, b, out, [](T x, T y) { return std::pow(x, y); });
    case BinaryOp::gt: return binary_kernel<T>(a, b, out, [](T x, T y) { return T(x > y); });
    case BinaryOp::lt: return binary_kernel<T>(a, b, out, [](T x, T y) { return T(x < y); });
    case BinaryOp::ge: return binary_kernel<T>(a, b, out, [](T x, T y) { return T(x >= y); });
    case BinaryOp::eq: return binary_kernel<T>(a, b, out, [](T x, T y) { return T(x == y); });
    case BinaryOp::relu_grad: return binary_kernel<T>(a, b, out, [](T x, T y) { return y > T(0) ? x : T(0); });
  }
}

}  // namespace

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& out, double alpha) {
  dispatch_float(out.dtype(), "unary", [&]<typename T>() { unary_typed<T>(op, x, out, static_cast<T>(alpha)); });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  if (out.dtype() == DType::i64) {
    check<DTypeError>(op == BinaryOp::add || op == BinaryOp::sub || op == BinaryOp::mul || op == BinaryOp::eq,
                      "binary: only add, sub, mul and eq are supported on i64");
    return binary_kernel<std::int64_t>(a, b, out, [op](std::int64_t x, std::int64_t y) -> std::int64_t {
      switch (op) {
        case BinaryOp::add: return x + y;
        case BinaryOp::sub: return x - y;
        case BinaryOp::mul: return x * y;
        default: return x == y;
      }
    });
  }
  dispatch_float(out.dtype(), "binary", [&]<typename T>() { binary_typed<T>(op, a, b, out); });
}

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_float(out.dtype(), "where", [&]<typename T>() {
    dispatch_all(cond.dtype(), [&]<typename C>() {
      const C* cp = static_cast<const C*>(cond.storage()->data()) + cond.offset();
      const T* ap = static_cast<const T*>(a.storage()->data()) + a.offset();
      const T* bp = static_cast<const T*>(b.storage()->data()) + b.offset();
      T* op = out.data<T>();
      const Strides out_strides = contiguous_strides(out.shape());
      for_each_row<4>(out.shape(), {&cond.strides(), &a.strides(), &b.strides(), &out_strides},
                      [&](const auto& off, std::int64_t n, const auto& inc) {
                        for (std::int64_t i = 0; i < n; ++i) {
                          op[off[3] + i] = cp[off[0] + i * inc[0]] != C(0) ? ap[off[1] + i * inc[1]]
                                                                            : bp[off[2] + i * inc[2]];
                        }
                      });
    });
  });
}

}  // namespace selfsup::core::cpu
