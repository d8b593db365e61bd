// The CPU backend: Eigen maps over our buffers for dense math, OpenMP for threads, f32 and f64.
// Method definitions are split by family: memory.cpp, elementwise.cpp, reduce.cpp, matmul.cpp,
// indexing.cpp, random.cpp, conv2d.cpp, pool2d.cpp, batch_norm.cpp.
#pragma once

#include "core/backend.h"

namespace selfsup::core::cpu {

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }

  void* allocate(std::size_t bytes) override;
  void deallocate(void* ptr) noexcept override;
  void copy(const Tensor& src, Tensor& dst) override;
  void copy_to_host(const void* src, void* host_dst, std::size_t bytes) override;
  void copy_from_host(const void* host_src, void* dst, std::size_t bytes) override;
  void fill(Tensor& dst, double value) override;

  void unary(UnaryOp op, const Tensor& x, Tensor& out, double alpha) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) override;

  void reduce(ReduceOp op, const Tensor& x, std::int64_t outer, std::int64_t reduce_size,
              std::int64_t inner, Tensor& out) override;
  void argmax(const Tensor& x, std::int64_t outer, std::int64_t reduce_size, std::int64_t inner,
              Tensor& out) override;
  void softmax(const Tensor& x, std::int64_t outer, std::int64_t size, std::int64_t inner, bool log,
               Tensor& out) override;

  void matmul(const Tensor& a, const Tensor& b, Tensor& out, bool transpose_a, bool transpose_b,
              double beta) override;

  void index_select(const Tensor& x, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                    Tensor& out) override;
  void index_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                 const Tensor& src) override;
  void gather(const Tensor& x, std::int64_t outer, std::int64_t inner, const Tensor& idx,
              Tensor& out) override;
  void scatter_add(Tensor& out, std::int64_t outer, std::int64_t inner, const Tensor& idx,
                   const Tensor& src) override;

  void random(Distribution dist, Generator& gen, double a, double b, Tensor& out) override;

  void conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                      const Conv2dParams& p, Tensor& out) override;
  void conv2d_backward_input(const Tensor& grad_out, const Tensor& weight, const Conv2dParams& p,
                             Tensor& grad_input) override;
  void conv2d_backward_weight(const Tensor& grad_out, const Tensor& x, const Conv2dParams& p,
                              Tensor& grad_weight) override;

  void max_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out,
                          Tensor& indices) override;
  void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices,
                           Tensor& grad_input) override;
  void avg_pool2d_forward(const Tensor& x, const Pool2dParams& p, Tensor& out) override;
  void avg_pool2d_backward(const Tensor& grad_out, const Pool2dParams& p,
                           Tensor& grad_input) override;

  void batch_norm_forward_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                double eps, Tensor& out, Tensor& save_mean,
                                Tensor& save_invstd) override;
  void batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& weight,
                           const Tensor& save_mean, const Tensor& save_invstd, Tensor& grad_input,
                           Tensor& grad_weight, Tensor& grad_bias) override;
};

CpuBackend& cpu_backend();

/// Frees the CPU blocks kept for reuse (see block_cache.h).
void empty_cache();
/// Bytes of freed blocks currently kept for reuse.
std::size_t cached_bytes();
/// Bytes of large (>= 256 KiB) blocks in use by tensors and workspaces, now and at the peak
/// since start-up or the last reset_peak_allocated_bytes(): like torch.cuda.memory_allocated.
std::size_t allocated_bytes();
std::size_t peak_allocated_bytes();
void reset_peak_allocated_bytes();

}  // namespace selfsup::core::cpu
