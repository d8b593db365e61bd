// Batched GEMM through Eigen maps over our row-major buffers. With SELFSUP_USE_OPENBLAS the
// build defines EIGEN_USE_BLAS, so Eigen forwards these products to OpenBLAS's sgemm/dgemm
// (measured faster here, see BENCHMARKS.md); Eigen's own kernel is the fallback.
#include <Eigen/Core>

#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace selfsup::core::cpu {
namespace {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;

}  // namespace

void CpuBackend::matmul(const Tensor& a, const Tensor& b, Tensor& out, bool transpose_a, bool transpose_b,
                        double beta) {
  dispatch_float(out.dtype(), "matmul", [&]<typename T>() {
    const std::int64_t batch = out.size(0), m = out.size(1), n = out.size(2);
    const std::int64_t k = transpose_a ? a.size(1) : a.size(2);
    const T* ap = a.data<T>();
    const T* bp = b.data<T>();
    T* op = out.data<T>();
    for (std::int64_t i = 0; i < batch; ++i) {
      // a stored [m, k] (or [k, m] when transposed); b stored [k, n] (or [n, k]).
      ConstMatrixMap<T> am(ap + i * m * k, transpose_a ? k : m, transpose_a ? m : k);
      ConstMatrixMap<T> bm(bp + i * k * n, transpose_b ? n : k, transpose_b ? k : n);
      MatrixMap<T> om(op + i * m * n, m, n);
      if (beta == 0.0) {
        if (k == 0) {
          om.setZero();
          continue;
        }
        if (!transpose_a && !transpose_b) om.noalias() = am * bm;
        else if (transpose_a && !transpose_b) om.noalias() = am.transpose() * bm;
        else if (!transpose_a && transpose_b) om.noalias() = am * bm.transpose();
        else om.noalias() = am.transpose() * bm.transpose();
      } else {
        if (beta != 1.0) om *= static_cast<T>(beta);
        if (k == 0) continue;
        if (!transpose_a && !transpose_b) om.noalias() += am * bm;
        else if (transpose_a && !transpose_b) om.noalias() += am.transpose() * bm;
        else if (!transpose_a && transpose_b) om.noalias() += am * bm.transpose();
        else om.noalias() += am.transpose() * bm.transpose();
      }
    }
  });
}

}  // namespace selfsup::core::cpu
