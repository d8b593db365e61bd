// Non-differentiable tensor functions: each allocates its output, checks shapes/dtypes/devices
// with named errors, and dispatches to backend_for(device). autograd/ builds on these.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace selfsup::core {

using Axes = std::vector<std::int64_t>;

// ---- elementwise with NumPy broadcasting ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
/// ReLU's gradient from its output: grad_out where out > 0, else 0 (one pass, no mask tensor).
Tensor relu_backward(const Tensor& grad_out, const Tensor& out);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b, const char* name);
/// cond ? a : b, broadcasting all three.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// ---- elementwise with a scalar ----
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor pow(const Tensor& a, double exponent);
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max);
Tensor gt(const Tensor& a, double s);
Tensor lt(const Tensor& a, double s);

// ---- unary ----
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor square(const Tensor& x);
Tensor unary(UnaryOp op, const Tensor& x, double alpha, const char* name);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(const Tensor& a, double s);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator/(double s, const Tensor& a);

// ---- reductions (axes may be negative; empty axes = all) ----
Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor amax(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Axes& axes = {}, bool keepdim = false);
/// Index (i64) of the first maximum along one axis.
Tensor argmax(const Tensor& x, std::int64_t axis, bool keepdim = false);
/// Sums `x` over the dimensions that broadcasting expanded from `shape` (the inverse of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);
/// Softmax / log-softmax along `axis` (max-subtracted, stable).
Tensor softmax(const Tensor& x, std::int64_t axis);
Tensor log_softmax(const Tensor& x, std::int64_t axis);

// ---- linear algebra ----
/// a [.., M, K] @ b [.., K, N] with broadcast batch dims; 1-d and 2-d operands as in torch.matmul.
Tensor matmul(const Tensor& a, const Tensor& b);
/// 2-d or 3-d (batched, same batch) product with optional transposes, without copies.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);

// ---- joining ----
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis);
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis);

// ---- indexing (idx is i64; every index is range-checked) ----
Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& idx);
/// A copy of x with x.index_select(axis, idx) += src.
Tensor index_add(const Tensor& x, std::int64_t axis, const Tensor& idx, const Tensor& src);
/// out[.., j, ..] = x[.., idx[.., j, ..], ..] along `axis` (idx has x's rank).
Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& idx);
/// A copy of x with src added at the positions idx names along `axis`.
Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& idx, const Tensor& src);
/// One-hot rows [N, classes] in `dtype` for labels [N] (i64).
Tensor one_hot(const Tensor& labels, std::int64_t classes, DType dtype = DType::f32);

// ---- random ----
/// 1 with probability p, else 0, in dtype.
Tensor bernoulli(const Shape& shape, double p, Generator& gen, DType dtype = DType::f32,
                 Device device = Device::cpu());

// ---- fused primitives with output allocation and shape checks ----
Shape conv2d_output_shape(const Shape& x, const Shape& weight, const Conv2dParams& p);
Tensor conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);
Tensor conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Shape& input_shape,
                             const Conv2dParams& p);
Tensor conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Shape& weight_shape,
                              const Conv2dParams& p);
Shape pool2d_output_shape(const Shape& x, const Pool2dParams& p, const char* op);
/// Returns {out, indices}.
std::pair<Tensor, Tensor> max_pool2d_forward(const Tensor& x, const Pool2dParams& p);
Tensor max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Shape& input_shape);
Tensor avg_pool2d_forward(const Tensor& x, const Pool2dParams& p);
Tensor avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p, const Shape& input_shape);
struct BatchNormTrainResult {
  Tensor out, save_mean, save_invstd;
};
BatchNormTrainResult batch_norm_forward_train(const Tensor& x, const Tensor& weight,
                                              const Tensor& bias, double eps);
struct BatchNormGrads {
  Tensor grad_input, grad_weight, grad_bias;
};
BatchNormGrads batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   bool need_weight_grads);

// ---- comparison helpers ----
/// |a - b| <= atol + rtol * |b| everywhere (shapes must match exactly).
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);
/// Largest |a - b| (shapes must match exactly).
double max_abs_diff(const Tensor& a, const Tensor& b);

/// Throws DeviceError unless all defined tensors are on one device.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
/// Throws DTypeError unless all defined tensors have one dtype.
void check_same_dtype(const char* op, std::initializer_list<const Tensor*> tensors);

}  // namespace selfsup::core
