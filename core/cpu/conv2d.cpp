// CPU 2-d convolution: conv2d_forward / conv2d_backward_input / conv2d_backward_weight.
// Letters: x [N, C, H, W], weight [K, C/G, R, S], out [N, K, P, Q] (P, Q = output H, W), G groups.
// Dispatch: depthwise convs (one input channel per group) -> conv2d_depthwise.cpp (direct
// loops); 3x3 / stride 1 / one group with >= 16 channels -> conv2d_winograd.cpp; everything
// else here: im2col over a tile of images, then one GEMM per (tile, group) (OpenBLAS through
// cblas when built with it, else Eigen maps). Both backward functions overwrite their outputs.
// Scratch buffers are allocated by the calling thread and kept thread_local for reuse.
// NOTE: with several OpenMP threads, one team splits the images and each thread calls
// single-threaded GEMMs (see "schedules" below); OpenBLAS is held to one thread meanwhile.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/cpu/blas_setup.h"
#include "core/cpu/conv2d_internal.h"
#include "core/cpu/cpu_backend.h"

namespace selfsup::core::cpu {
namespace {

using namespace conv2d_internal;  // NOLINT(google-build-using-namespace): ConvGeom and friends

// Tiling: the forward and input-gradient GEMMs take kTargetCols columns (images x P x Q) per
// tile, so small maps (4x4, 8x8) still make a wide GEMM while the column tile and the output
// tile stay in L2. The weight gradient's GEMM sums over the columns (its K), and each tile
// re-reads and re-writes the whole [K, CRS] gradient, so it takes more columns per tile.
// Measured on the ResNet-18 CIFAR shapes (scripts/bench_conv.sh, quiet machine): 256 columns
// for forward / input gradient are 10-35% faster than 1024 on the stride-2 and 1x1 layers; the
// weight gradient is flat between 512 and 2048 columns.
constexpr Index kTargetCols = 256;
constexpr Index kTargetColsWeight = 1024;
constexpr std::size_t kMaxColBytes = std::size_t{16} << 20;

// Leading dimension of a column buffer of `cols` columns: one cache line more, so that rows of
// power-of-two width (256 columns) do not all fall into the same cache sets when the GEMM's
// packing reads down the columns.
template <typename T>
Index col_ld(Index cols) {
  return cols + 64 / static_cast<Index>(sizeof(T));
}

// Per-thread scratch of one call: the column buffer and the packed output tile. All of it is
// allocated by the calling thread before any OpenMP team starts (so allocation failures throw
// normally) and kept thread_local for reuse by later calls.
template <typename T>
struct Workspace {
  T* col;
  T* tile;
};

template <typename T>
class Workspaces {
 public:
  Workspaces(int threads, Index col_elems, Index tile_elems)
      : col_elems_(col_elems), per_thread_(col_elems + tile_elems) {
    thread_local std::vector<T> buffer;
    const auto needed = static_cast<std::size_t>(threads * per_thread_);
    if (buffer.size() < needed) buffer.resize(needed);
    data_ = buffer.data();
  }
  Workspace<T> operator[](int thread) const {
    T* base = data_ + thread * per_thread_;
    return {base, base + col_elems_};
  }

 private:
  Index col_elems_, per_thread_;
  T* data_ = nullptr;
};

// ---- GEMM: C[M, N] = op(A) op(B) (+ C when accumulate), all row-major with leading dims ----
// With OpenBLAS: cblas directly, so beta = 0 needs no zeroing pass over C (Eigen's `=` clears C
// first, then calls gemm with beta = 1). Without it: Eigen maps and Eigen's own kernel.
#ifdef SELFSUP_USE_OPENBLAS
extern "C" {
// OpenBLAS's cblas.h prototypes; the enums are ints (CblasRowMajor 101, NoTrans 111, Trans 112).
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);
void cblas_dgemm(int order, int trans_a, int trans_b, int m, int n, int k, double alpha,
                 const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc);
}
#endif

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

template <typename T>
void gemm_impl(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, Index lda, const T* b,
               Index ldb, T* c, Index ldc, bool accumulate) {
  [[maybe_unused]] static const bool linked = blas_ready();  // links the OpenBLAS kernel fix-up
#ifdef SELFSUP_USE_OPENBLAS
  constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
  const auto i = [](Index v) { return static_cast<int>(v); };
  const int ta = trans_a ? kTrans : kNoTrans, tb = trans_b ? kTrans : kNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(kRowMajor, ta, tb, i(M), i(N), i(K), 1.0f, a, i(lda), b, i(ldb), accumulate ? 1.0f : 0.0f,
                c, i(ldc));
  } else {
    cblas_dgemm(kRowMajor, ta, tb, i(M), i(N), i(K), 1.0, a, i(lda), b, i(ldb), accumulate ? 1.0 : 0.0, c,
                i(ldc));
  }
#else
  MutMap<T> cm(c, M, N, Eigen::OuterStride<>(ldc));
  const ConstMap<T> am(a, trans_a ? K : M, trans_a ? M : K, Eigen::OuterStride<>(lda));
  const ConstMap<T> bm(b, trans_b ? N : K, trans_b ? K : N, Eigen::OuterStride<>(ldb));
  auto run = [&](const auto& lhs, const auto& rhs) {
    if (accumulate) {
      cm.noalias() += lhs * rhs;
    } else {
      cm.noalias() = lhs * rhs;
    }
  };
  if (!trans_a && !trans_b) run(am, bm);
  if (!trans_a && trans_b) run(am, bm.transpose());
  if (trans_a && !trans_b) run(am.transpose(), bm);
  if (trans_a && trans_b) run(am.transpose(), bm.transpose());
#endif
}

// Images per tile so that nb * P * Q >= target_cols without the column buffer exceeding
// kMaxColBytes (at least one image).
template <typename T>
Index images_per_tile(const ConvGeom& g, Index target_cols) {
  Index nb = std::max<Index>(1, (target_cols + g.PQ() - 1) / g.PQ());
  const std::size_t per_image = static_cast<std::size_t>(g.CRS() * g.PQ()) * sizeof(T);
  const Index cap = std::max<Index>(1, static_cast<Index>(kMaxColBytes / std::max<std::size_t>(per_image, 1)));
  return std::clamp<Index>(std::min(nb, cap), 1, g.N);
}

// im2col / col2im take rows of stride-1 convs from 8 outputs wide on as masked vector copies
// and rows of stride-2 convs from 9 outputs wide on as masked loads + an even-lane permute
// (im2col_plane_stride2); narrower maps and other strides go through a per-tap offset table
// (measured: 4x4 maps ~20% faster with the table, 16x16 ~10% faster with rows).
constexpr Index kTableMaxWidth = 8;

// table[(r*S + s)*PQ + j]: the offset within an input plane that output position j reads for
// kernel tap (r, s), or -1 in the padding. Built once per call by the calling thread (R*S*P*Q
// entries against Cg*R*S*nb*P*Q copies) and shared read-only by the team.
const std::int32_t* tap_offsets(const ConvGeom& g) {
  thread_local std::vector<std::int32_t> table;
  table.resize(static_cast<std::size_t>(g.R * g.S * g.PQ()));
  std::int32_t* t = table.data();
  for (Index r = 0; r < g.R; ++r)
    for (Index s = 0; s < g.S; ++s)
      for (Index p = 0; p < g.P; ++p)
        for (Index q = 0; q < g.Q; ++q) {
          const Index ih = p * g.sh - g.ph + r * g.dh, iw = q * g.sw - g.pw + s * g.dw;
          const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
          *t++ = inside ? static_cast<std::int32_t>(ih * g.W + iw) : -1;
        }
  return table.data();
}

// col [Cg*R*S, nb*P*Q]: row (c, r, s), column (i, p, q) holds x[n0+i, group*Cg + c,
// p*sh - ph + r*dh, q*sw - pw + s*dw], or 0 in the padding.
template <typename T>
void im2col(const T* x, const ConvGeom& g, Index n0, Index nb, Index group, bool parallel, T* col) {
  const Index rows = g.CRS(), PQ = g.PQ(), ld = col_ld<T>(nb * PQ), RS = g.R * g.S;
  if (g.taps) {
    const std::int32_t* table = g.taps;
#pragma omp parallel for collapse(2) schedule(static) if (parallel && rows * ld >= kParallelMin)
    for (Index row = 0; row < rows; ++row) {
      for (Index i = 0; i < nb; ++i) {
        const T* plane = x + ((n0 + i) * g.C + group * g.Cg + row / RS) * g.HW();
        const std::int32_t* offsets = table + (row % RS) * PQ;
        T* dst = col + row * ld + i * PQ;
        gather_row(dst, plane, offsets, PQ);
      }
    }
    return;
  }
#pragma omp parallel for collapse(2) schedule(static) if (parallel && rows * ld >= kParallelMin)
  for (Index row = 0; row < rows; ++row) {
    for (Index i = 0; i < nb; ++i) {
      const Index c = row / RS, r = (row / g.S) % g.R, s = row % g.S;
      const T* plane = x + ((n0 + i) * g.C + group * g.Cg + c) * g.HW();
      T* dst = col + row * ld + i * PQ;
      if (g.sw == 2) {
        im2col_plane_stride2(dst, plane, {g.H, g.W, g.P, g.Q, g.sh, r * g.dh - g.ph, s * g.dw - g.pw});
        continue;
      }
      const ColRange cols = valid_cols(s * g.dw, g.pw, g.sw, g.W, g.Q);
      for (Index p = 0; p < g.P; ++p, dst += g.Q) {
        const Index ih = p * g.sh - g.ph + r * g.dh;
        if (ih < 0 || ih >= g.H) {
          std::fill(dst, dst + g.Q, T(0));
          continue;
        }
        copy_row_padded(dst, plane + ih * g.W - g.pw + s * g.dw, cols.lo, cols.hi, g.Q);  // stride 1
      }
    }
  }
}

// The adjoint of im2col: grad_x planes of images [n0, n0+nb) and the group's channels are
// overwritten with the sum of their column entries. Each plane is owned by one thread.
template <typename T>
void col2im(const T* col, const ConvGeom& g, Index n0, Index nb, Index group, bool parallel,
            T* grad_x) {
  const Index PQ = g.PQ(), ld = col_ld<T>(nb * PQ), RS = g.R * g.S;
  const std::int32_t* table = g.taps;
#pragma omp parallel for collapse(2) schedule(static) if (parallel && g.CRS() * ld >= kParallelMin)
  for (Index c = 0; c < g.Cg; ++c) {
    for (Index i = 0; i < nb; ++i) {
      T* plane = grad_x + ((n0 + i) * g.C + group * g.Cg + c) * g.HW();
      std::fill(plane, plane + g.HW(), T(0));
      for (Index r = 0; r < g.R; ++r) {
        for (Index s = 0; s < g.S; ++s) {
          const T* src = col + (c * RS + r * g.S + s) * ld + i * PQ;
          if (table) {
            scatter_add_row(plane, src, table + (r * g.S + s) * PQ, PQ);
            continue;
          }
          if (g.sw == 2) {
            col2im_plane_stride2(plane, src, {g.H, g.W, g.P, g.Q, g.sh, r * g.dh - g.ph, s * g.dw - g.pw});
            continue;
          }
          const ColRange cols = valid_cols(s * g.dw, g.pw, g.sw, g.W, g.Q);
          for (Index p = 0; p < g.P; ++p, src += g.Q) {
            const Index ih = p * g.sh - g.ph + r * g.dh;
            if (ih < 0 || ih >= g.H) continue;
            add_row(plane + ih * g.W - g.pw + s * g.dw, src, cols.lo, cols.hi);  // stride 1
          }
        }
      }
    }
  }
}

// Copies a group's output channels of images [n0, n0+nb) between the NCHW tensor t
// [N, K, P, Q] and a packed tile [Kg, nb*P*Q] (leading dimension col_ld(nb*P*Q)); unpack_tile
// adds bias (or null) on the way.
template <typename T>
void pack_tile(const T* t, const ConvGeom& g, Index n0, Index nb, Index group, bool parallel,
               T* tile) {
  const Index PQ = g.PQ();
#pragma omp parallel for collapse(2) schedule(static) if (parallel && g.Kg * nb * PQ >= kParallelMin)
  for (Index k = 0; k < g.Kg; ++k) {
    for (Index i = 0; i < nb; ++i) {
      const T* src = t + ((n0 + i) * g.K + group * g.Kg + k) * PQ;
      std::copy(src, src + PQ, tile + k * col_ld<T>(nb * PQ) + i * PQ);
    }
  }
}
template <typename T>
void unpack_tile(const T* tile, const ConvGeom& g, Index n0, Index nb, Index group, const T* bias,
                 bool parallel, T* t) {
  const Index PQ = g.PQ();
#pragma omp parallel for collapse(2) schedule(static) if (parallel && g.Kg * nb * PQ >= kParallelMin)
  for (Index k = 0; k < g.Kg; ++k) {
    for (Index i = 0; i < nb; ++i) {
      const T* src = tile + k * col_ld<T>(nb * PQ) + i * PQ;
      T* dst = t + ((n0 + i) * g.K + group * g.Kg + k) * PQ;
      const T b = bias ? bias[group * g.Kg + k] : T(0);
      for (Index j = 0; j < PQ; ++j) dst[j] = src[j] + b;
    }
  }
}

template <typename T>
void add_bias(const ConvGeom& g, Index n, const T* bias, bool parallel, T* out) {
  const Index PQ = g.PQ();
#pragma omp parallel for schedule(static) if (parallel && g.K * PQ >= kParallelMin)
  for (Index k = 0; k < g.K; ++k) {
    T* dst = out + (n * g.K + k) * PQ;
    const T b = bias[k];
    for (Index j = 0; j < PQ; ++j) dst[j] += b;
  }
}

// ---- im2col + GEMM, one tile of images [n0, n0 + nb) at a time ----
// `inner`: the tile's copy loops may start their own OpenMP teams (false inside a team).

template <typename T>
void forward_tile(const T* x, const T* weight, const T* bias, const ConvGeom& g, Index n0, Index nb,
                  bool inner, Workspace<T> ws, T* out) {
  const Index PQ = g.PQ(), CRS = g.CRS();
  for (Index group = 0; group < g.G; ++group) {
    const T* w = weight + group * g.Kg * CRS;  // [Kg, CRS]
    const T* col = x + (n0 * g.C + group * g.Cg) * g.HW();
    if (!(g.pointwise() && nb == 1)) {
      im2col(x, g, n0, nb, group, inner, ws.col);
      col = ws.col;
    }
    const Index ldcol = col == ws.col ? col_ld<T>(nb * PQ) : nb * PQ;
    if (nb == 1) {  // out[n0, group's channels] is a contiguous [Kg, PQ] block
      gemm_impl<T>(false, false, g.Kg, PQ, CRS, w, CRS, col, ldcol, out + (n0 * g.K + group * g.Kg) * PQ, PQ,
                   false);
    } else {
      gemm_impl<T>(false, false, g.Kg, nb * PQ, CRS, w, CRS, col, ldcol, ws.tile, col_ld<T>(nb * PQ), false);
      unpack_tile(ws.tile, g, n0, nb, group, bias, inner, out);
    }
  }
  if (nb == 1 && bias) add_bias(g, n0, bias, inner, out);
}

template <typename T>
void backward_input_tile(const T* grad_out, const T* weight, const ConvGeom& g, Index n0, Index nb,
                         bool inner, Workspace<T> ws, T* grad_x) {
  const Index PQ = g.PQ(), CRS = g.CRS();
  for (Index group = 0; group < g.G; ++group) {
    const T* w = weight + group * g.Kg * CRS;  // [Kg, CRS]; grad_col = w^T @ grad_out tile
    const T* go = grad_out + (n0 * g.K + group * g.Kg) * PQ;
    if (nb > 1) {
      pack_tile(grad_out, g, n0, nb, group, inner, ws.tile);
      go = ws.tile;
    }
    if (g.pointwise() && nb == 1) {  // grad_x[n0, group's channels] is a [Cg, HW] block
      gemm_impl<T>(true, false, CRS, PQ, g.Kg, w, CRS, go, PQ, grad_x + (n0 * g.C + group * g.Cg) * g.HW(),
              PQ, false);
      continue;
    }
    const Index ldgo = go == ws.tile ? col_ld<T>(nb * PQ) : nb * PQ;
    gemm_impl<T>(true, false, CRS, nb * PQ, g.Kg, w, CRS, go, ldgo, ws.col, col_ld<T>(nb * PQ), false);
    col2im(ws.col, g, n0, nb, group, inner, grad_x);
  }
}

// grad_w[group] [Kg, CRS] (+)= grad_out tile [Kg, nb*PQ] @ col^T [nb*PQ, CRS]
template <typename T>
void backward_weight_tile(const T* grad_out, const T* x, const ConvGeom& g, Index n0, Index nb,
                          bool inner, bool accumulate, Workspace<T> ws, T* grad_w) {
  const Index PQ = g.PQ(), CRS = g.CRS();
  for (Index group = 0; group < g.G; ++group) {
    const T* go = grad_out + (n0 * g.K + group * g.Kg) * PQ;
    if (nb > 1) {
      pack_tile(grad_out, g, n0, nb, group, inner, ws.tile);
      go = ws.tile;
    }
    const T* col = x + (n0 * g.C + group * g.Cg) * g.HW();
    if (!(g.pointwise() && nb == 1)) {
      im2col(x, g, n0, nb, group, inner, ws.col);
      col = ws.col;
    }
    const Index ldcol = col == ws.col ? col_ld<T>(nb * PQ) : nb * PQ;
    const Index ldgo = go == ws.tile ? col_ld<T>(nb * PQ) : nb * PQ;
    gemm_impl<T>(false, true, g.Kg, CRS, nb * PQ, go, ldgo, col, ldcol, grad_w + group * g.Kg * CRS, CRS,
                 accumulate);
  }
}

// ---- schedules ----
// gemm_threads: tiles run one after another; OpenBLAS threads each GEMM and the copy loops
//   start their own OpenMP teams (several synchronisations per tile).
// image_threads: one OpenMP team splits the tiles; each thread runs its tiles' copies and
//   single-threaded GEMMs, so there is one synchronisation per call and the column buffer
//   stays in the thread's own cache.
// How one call is split: images per tile, tile count, and team size (1: gemm_threads).
struct Plan {
  Index nb, tiles;
  int threads;
};

template <typename T>
Plan make_plan(ConvGeom& g, Index target_cols) {
  // rows: copy_row_padded (stride 1) or im2col_plane_stride2 (stride 2)
  const bool rows = (g.sw == 1 && g.Q >= kTableMaxWidth) || (g.sw == 2 && g.Q > kTableMaxWidth);
  if (!rows) g.taps = tap_offsets(g);
  const int max_threads = omp_get_max_threads();
  const bool image_threads = max_threads > 1 && !omp_in_parallel() && g.N > 1 && g.worth_threads();
  Index nb = images_per_tile<T>(g, target_cols);
  if (image_threads) nb = std::max<Index>(1, std::min(nb, (g.N + max_threads - 1) / max_threads));
  return {nb, (g.N + nb - 1) / nb, image_threads ? max_threads : 1};
}

template <typename T>
Workspaces<T> make_workspaces(const ConvGeom& g, const Plan& plan) {
  return Workspaces<T>(plan.threads, g.CRS() * col_ld<T>(plan.nb * g.PQ()),
                       plan.nb > 1 ? g.Kg * col_ld<T>(plan.nb * g.PQ()) : 0);
}

template <typename T>
void forward_impl(const T* x, const T* weight, const T* bias, ConvGeom g, T* out) {
  if (g.N == 0 || g.PQ() == 0) return;
  if (g.depthwise()) return depthwise_forward(x, weight, bias, g, out);
  if (winograd_applicable(g)) return winograd_forward(x, weight, bias, g, out);
  const Plan plan = make_plan<T>(g, kTargetCols);
  const Workspaces<T> ws = make_workspaces<T>(g, plan);
  const auto run = [&](Index t, bool inner, Workspace<T> w) {
    forward_tile(x, weight, bias, g, t * plan.nb, std::min(plan.nb, g.N - t * plan.nb), inner, w, out);
  };
  if (plan.threads == 1) {
    for (Index t = 0; t < plan.tiles; ++t) run(t, true, ws[0]);
    return;
  }
  const SingleThreadedBlas single_threaded_blas;
#pragma omp parallel for schedule(dynamic, 1) num_threads(plan.threads)
  for (Index t = 0; t < plan.tiles; ++t) run(t, false, ws[omp_get_thread_num()]);
}

template <typename T>
void backward_input_impl(const T* grad_out, const T* weight, ConvGeom g, T* grad_x) {
  if (g.N == 0 || g.HW() == 0) return;
  if (g.PQ() == 0) {
    std::fill(grad_x, grad_x + g.N * g.C * g.HW(), T(0));
    return;
  }
  if (g.depthwise()) return depthwise_backward_input(grad_out, weight, g, grad_x);
  if (winograd_applicable(g)) return winograd_backward_input(grad_out, weight, g, grad_x);
  const Plan plan = make_plan<T>(g, kTargetCols);
  const Workspaces<T> ws = make_workspaces<T>(g, plan);
  const auto run = [&](Index t, bool inner, Workspace<T> w) {
    backward_input_tile(grad_out, weight, g, t * plan.nb, std::min(plan.nb, g.N - t * plan.nb), inner, w,
                        grad_x);
  };
  if (plan.threads == 1) {
    for (Index t = 0; t < plan.tiles; ++t) run(t, true, ws[0]);
    return;
  }
  const SingleThreadedBlas single_threaded_blas;
#pragma omp parallel for schedule(dynamic, 1) num_threads(plan.threads)
  for (Index t = 0; t < plan.tiles; ++t) run(t, false, ws[omp_get_thread_num()]);
}

template <typename T>
void backward_weight_impl(const T* grad_out, const T* x, ConvGeom g, T* grad_w) {
  const Index KCRS = g.K * g.CRS();
  if (g.N == 0 || g.PQ() == 0) {
    std::fill(grad_w, grad_w + KCRS, T(0));
    return;
  }
  if (g.depthwise()) return depthwise_backward_weight(grad_out, x, g, grad_w);
  if (winograd_weight_grad_applicable(g)) return winograd_backward_weight(grad_out, x, g, grad_w);
  const Plan plan = make_plan<T>(g, kTargetColsWeight);
  const Workspaces<T> ws = make_workspaces<T>(g, plan);
  const auto run = [&](Index t, bool inner, bool accumulate, Workspace<T> w, T* acc) {
    backward_weight_tile(grad_out, x, g, t * plan.nb, std::min(plan.nb, g.N - t * plan.nb), inner,
                         accumulate, w, acc);
  };
  if (plan.threads == 1) {
    for (Index t = 0; t < plan.tiles; ++t) run(t, true, t > 0, ws[0], grad_w);
    return;
  }
  // Thread u sums a fixed contiguous range of tiles into its own buffer (thread 0: grad_w);
  // the buffers are then added in thread order, so results are reproducible for a thread count.
  thread_local std::vector<T> partial_buffer;
  partial_buffer.resize(static_cast<std::size_t>((plan.threads - 1) * KCRS));
  T* partial = partial_buffer.data();
  const SingleThreadedBlas single_threaded_blas;
#pragma omp parallel num_threads(plan.threads)
  {
    const int u = omp_get_thread_num(), team = omp_get_num_threads();
    T* acc = u == 0 ? grad_w : partial + (u - 1) * KCRS;
    const Index begin = plan.tiles * u / team, end = plan.tiles * (u + 1) / team;
    if (begin == end) std::fill(acc, acc + KCRS, T(0));
    for (Index t = begin; t < end; ++t) run(t, false, t > begin, ws[u], acc);
#pragma omp barrier
#pragma omp for schedule(static)
    for (Index e = 0; e < KCRS; ++e) {
      T sum = grad_w[e];
      for (int v = 1; v < team; ++v) sum += partial[(v - 1) * KCRS + e];
      grad_w[e] = sum;
    }
  }
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

namespace conv2d_internal {

template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, Index lda, const T* b,
          Index ldb, T* c, Index ldc, bool accumulate) {
  gemm_impl(trans_a, trans_b, M, N, K, a, lda, b, ldb, c, ldc, accumulate);
}
template void gemm<float>(bool, bool, Index, Index, Index, const float*, Index, const float*, Index, float*,
                          Index, bool);
template void gemm<double>(bool, bool, Index, Index, Index, const double*, Index, const double*, Index,
                           double*, Index, bool);

}  // namespace conv2d_internal

void CpuBackend::conv2d_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                const Conv2dParams& p, Tensor& out) {
  const ConvGeom g = make_geom(x.shape(), weight.shape(), out.shape(), p);
  dispatch_float(x.dtype(), "conv2d_forward", [&]<typename T>() {
    forward_impl<T>(x.data<T>(), weight.data<T>(), data_or_null<T>(bias), g, out.data<T>());
  });
}

void CpuBackend::conv2d_backward_input(const Tensor& grad_out, const Tensor& weight,
                                       const Conv2dParams& p, Tensor& grad_input) {
  const ConvGeom g = make_geom(grad_input.shape(), weight.shape(), grad_out.shape(), p);
  dispatch_float(grad_out.dtype(), "conv2d_backward_input", [&]<typename T>() {
    backward_input_impl<T>(grad_out.data<T>(), weight.data<T>(), g, grad_input.data<T>());
  });
}

void CpuBackend::conv2d_backward_weight(const Tensor& grad_out, const Tensor& x,
                                        const Conv2dParams& p, Tensor& grad_weight) {
  const ConvGeom g = make_geom(x.shape(), grad_weight.shape(), grad_out.shape(), p);
  dispatch_float(grad_out.dtype(), "conv2d_backward_weight", [&]<typename T>() {
    backward_weight_impl<T>(grad_out.data<T>(), x.data<T>(), g, grad_weight.data<T>());
  });
}

}  // namespace selfsup::core::cpu
