// The device backend: the primitives each device implements once. Everything else (mean, var,
// softmax backward, losses, optimizers, ...) is composed in core/ops.cpp or autograd/ and so has
// one implementation for every device.
// Conventions: outputs are preallocated by core/ops.cpp and passed in, contiguous, with the
// right shape and dtype; inputs are contiguous unless a primitive says otherwise. Backends
// throw DTypeError for a dtype they do not support.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"

namespace selfsup::core {

/// out = f(x, alpha). alpha is the scalar operand of the *_scalar ops, the exponent of pow.
enum class UnaryOp {
  neg, exp, log, sqrt, rsqrt, abs, sign, relu, sigmoid, tanh, reciprocal, square,
  add_scalar, mul_scalar, pow_scalar, max_scalar, min_scalar, gt_scalar, lt_scalar
};
/// out = a (op) b; comparisons give 1 or 0 in the output dtype.
// relu_grad(dy, y) = y > 0 ? dy : 0: ReLU's backward from its saved output in one pass.
enum class BinaryOp { add, sub, mul, div, max, min, pow, gt, lt, ge, eq, relu_grad };
enum class ReduceOp { sum, max, min };
enum class Distribution { uniform, normal, bernoulli };

struct Conv2dParams {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

struct Pool2dParams {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg pool only, PyTorch's default
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // ---- memory ----
  /// ensures: a buffer of at least `bytes` bytes, aligned to 64, or throws DeviceError.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* ptr) noexcept = 0;
  /// requires: src.shape() == dst.shape(); src any strides (stride 0 allowed) and any dtype;
  /// dst contiguous. ensures: dst = src converted to dst.dtype().
  virtual void copy(const Tensor& src, Tensor& dst) = 0;
  /// Copies raw bytes between this device and host memory.
  virtual void copy_to_host(const void* src, void* host_dst, std::size_t bytes) = 0;
  virtual void copy_from_host(const void* host_src, void* dst, std::size_t bytes) = 0;
  /// ensures: every element of dst (contiguous) equals value.
  virtual void fill(Tensor& dst, double value) = 0;

  // ---- elementwise ----
  /// requires: x has out's shape, any strides (stride 0 for broadcast). All float dtypes.
  virtual void unary(UnaryOp op, const Tensor& x, Tensor& out, double alpha = 0.0) = 0;
  /// requires: a, b have out's shape (broadcast views with stride 0 allowed), same dtype.
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  /// out = cond != 0 ? a : b; all three have out's shape (broadcast views allowed).
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) = 0;

  // ---- reductions ----
  /// requires: x contiguous [outer, reduce, inner]; out [outer, inner].
  /// ensures: out[o, i] = op over r of x[o, r, i], in a fixed order independent of thread count.
  virtual void reduce(ReduceOp op, const Tensor& x, std::int64_t outer, std::int64_t reduce_size,
                      std::int64_t inner, Tensor& out) = 0;
  /// Like reduce(max) but writes the first index of the maximum (i64) to `out`.
  virtual void argmax(const Tensor& x, std::int64_t outer, std::int64_t reduce_size,
                      std::int64_t inner, Tensor& out) = 0;
  /// Softmax (or log-softmax) over the middle axis of x viewed as [outer, size, inner].
  virtual void softmax(const Tensor& x, std::int64_t outer, std::int64_t size, std::int64_t inner,
                       bool log, Tensor& out) = 0;

  // ---- linear algebra ----
  /// requires: a [B, M, K] (or [B, K, M] when transpose_a), b [B, K, N] (or [B, N, K]),
  /// out [B, M, N], all contiguous and of one float dtype.
  /// ensures: out = op(a) @ op(b) + beta * out (beta 0 ignores out's old contents, even NaN).
  virtual void matmul(const Tensor& a, const Tensor& b, Tensor& out, bool transpose_a,
                      bool transpose_b, double beta = 0.0) = 0;

  // ---- indexing (indices are i64, checked in range by core) ----
  /// x viewed as [outer, n, inner]; out [outer, m, inner] with out[o, j, i] = x[o, idx[j], i].
  virtual void index_select(const Tensor& x, std::int64_t outer, std::int64_t inner,
                            const Tensor& idx, Tensor& out) = 0;
  /// out viewed as [outer, n, inner]; src [outer, m, inner]: out[o, idx[j], i] += src[o, j, i].
  virtual void index_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                         const Tensor& src) = 0;
  /// x viewed as [outer, n, inner]; idx, out [outer, m, inner]: out[o,j,i] = x[o, idx[o,j,i], i].
  virtual void gather(const Tensor& x, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                      Tensor& out) = 0;
  /// out viewed as [outer, n, inner]; idx, src [outer, m, inner]: out[o, idx[o,j,i], i] += src.
  virtual void scatter_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                           const Tensor& src) = 0;

  // ---- random ----
  /// Fills out (contiguous, float) from `gen`: uniform [a, b), normal (mean a, std b), or
  /// bernoulli (1 with probability a). Element i uses counter first + i (see generator.h).
  virtual void random(Distribution dist, Generator& gen, double a, double b, Tensor& out) = 0;

  // ---- fused pairs: x [N, C, H, W], weight [K, C/groups, R, S], out [N, K, H_out, W_out] ----
  /// bias is [K] or undefined.
  virtual void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                              const Conv2dParams& p, Tensor& out) = 0;
  /// ensures: grad_input = d(loss)/dx given grad_out (overwritten, not accumulated).
  virtual void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight,
                                     const Conv2dParams& p, Tensor& grad_input) = 0;
  /// ensures: grad_weight = d(loss)/dweight (overwritten).
  virtual void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x,
                                      const Conv2dParams& p, Tensor& grad_weight) = 0;

  /// out [N, C, H_out, W_out]; indices (i64, same shape) hold the flat h*W+w of each maximum.
  virtual void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out,
                                  Tensor& indices) = 0;
  /// grad_input (overwritten) gets grad_out routed to the recorded maxima.
  virtual void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                                   Tensor& grad_input) = 0;
  virtual void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out) = 0;
  virtual void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                                   Tensor& grad_input) = 0;

  /// Training-mode batch norm over x [N, C, *]: out = (x - mean) * invstd * weight + bias with
  /// biased batch statistics; saves mean [C] and invstd [C]. weight/bias may be undefined.
  virtual void batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                        double eps, Tensor& out, Tensor& save_mean,
                                        Tensor& save_invstd) = 0;
  /// Gradients of the above; grad_weight / grad_bias may be undefined when not needed.
  virtual void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                                   const Tensor& save_mean, const Tensor& save_invstd,
                                   Tensor& grad_input, Tensor& grad_weight, Tensor& grad_bias) = 0;
};

/// The backend registered for `device`; throws DeviceError when none is available.
Backend& backend_for(Device device);
/// Called by a backend library (e.g. CUDA) to register itself.
void register_backend(DeviceKind kind, Backend* backend);

/// Threads used by the CPU backend (OpenMP); 0 restores the OMP_NUM_THREADS default.
void set_num_threads(int n);
int get_num_threads();

}  // namespace selfsup::core
