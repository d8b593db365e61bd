// Winograd F(2x2, 3x3) convolution for 3x3 kernels with stride 1, dilation 1 and one group: the
// forward pass, the input gradient (a forward convolution of grad_out with the flipped,
// transposed kernel and padding 2 - pad), and the weight gradient (the adjoint of the forward's
// transforms: dU[xi] = sum over tiles of (A dy A^T)[xi] V[xi]^T, grad_w = G^T dU G). Each 2x2 output tile costs 16 multiplies per input
// channel instead of 36, and the 16 products become 16 GEMMs:
//   U[xi] = (G g G^T)[xi]  [Cout, Cin]      (weights, once per call)
//   V[xi] = (B^T d B)[xi]  [Cin, tiles]     (4x4 input tiles d, stride 2, zero padded)
//   M[xi] = U[xi] V[xi]    [Cout, tiles]
//   y     = A^T M A        2x2 output tiles
// reference: Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016.
// Letters: x [N, C, H, W], weight [K, C, 3, 3], out [N, K, P, Q]; "in"/"out" below are the
// problem's own input and output (swapped for the input gradient). Outputs are overwritten.
// NOTE: the transforms add rounding: f32 results differ from im2col + GEMM by ~1e-6 relative.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/cpu/blas_setup.h"
#include "core/cpu/conv2d_internal.h"
#include "core/cpu/winograd_rows_avx512.h"

namespace selfsup::core::cpu::conv2d_internal {
namespace {

// Maps at least this many tiles wide take the row-vectorised float transforms
// (winograd_rows_avx512.h) instead of the per-tile gathers below.
constexpr Index kRowTransformMinTiles = 8;

template <typename T>
bool row_transforms(Index tiles_per_row) {
#if defined(__AVX512F__)
  return std::is_same_v<T, float> && tiles_per_row >= kRowTransformMinTiles;
#else
  (void)tiles_per_row;
  return false;
#endif
}

// GEMM columns (tiles of several images) per batch, and the cap on one thread's V or M buffer.
// Measured (scripts/bench_conv.sh, interleaved runs): 256 tiles beat 64, 128 and 512 on the
// 16x16, 8x8 and 4x4 layers of ResNet-18 (V and M of a batch then stay near L2 size).
constexpr Index kTargetTiles = 256;
constexpr Index kMaxBufferBytes = Index{8} << 20;

// Distance between the 16 component matrices of V, M and Yhat. rows * cols is usually a power of
// two, and 16 streams that far apart fall into the same cache sets: the transforms, which touch
// all 16 per tile, then thrash L1 and L2 (measured: transform_input took a quarter of a 512->512
// 4x4 forward+backward). One cache line of skew per component spreads them over distinct sets.
template <typename T>
Index component_stride(Index rows, Index cols) {
  return rows * cols + 64 / static_cast<Index>(sizeof(T));
}

// One problem: in [N, Cin, Hin, Win] -> out [N, Cout, Hout, Wout], 3x3, zero padding ph / pw.
struct Problem {
  Index N, Cin, Hin, Win, Cout, Hout, Wout, ph, pw;
  Index TP() const { return (Hout + 1) / 2; }  // tile rows
  Index TQ() const { return (Wout + 1) / 2; }  // tile columns
  Index tiles() const { return TP() * TQ(); }  // per image
  Index Hp() const { return 2 * TP() + 2; }    // padded plane covering every tile
  Index Wp() const { return 2 * TQ() + 2; }
};

// How a call is cut into batches of nb images: one OpenMP team over the batches (`team`, each
// member with its own buffer set) or the batches in sequence with threaded transforms and GEMMs.
// Every thread also gets kPadSets * nb padded planes (transform_input pads one channel ahead).
constexpr Index kPadSets = 2;
struct BatchPlan {
  bool team;
  Index nb, batches;
  int buffer_sets, max_threads;
  Index pad_elems;  // per thread
};

template <typename T>
BatchPlan make_batch_plan(const Problem& pb, bool threads) {
  BatchPlan plan{};
  plan.max_threads = omp_get_max_threads();
  plan.team = threads && plan.max_threads > 1 && !omp_in_parallel() && pb.N > 1;
  const Index tiles = pb.tiles();
  const Index per_image = 16 * std::max(pb.Cin, pb.Cout) * tiles * static_cast<Index>(sizeof(T));
  Index nb = std::max<Index>(1, (kTargetTiles + tiles - 1) / tiles);
  nb = std::min(nb, std::max<Index>(1, kMaxBufferBytes / per_image));
  plan.nb = std::min(nb, plan.team ? (pb.N + plan.max_threads - 1) / plan.max_threads : pb.N);
  plan.batches = (pb.N + plan.nb - 1) / plan.nb;
  plan.buffer_sets = plan.team ? plan.max_threads : 1;
  plan.pad_elems = kPadSets * plan.nb * pb.Hp() * pb.Wp();
  return plan;
}

// The padded planes of the calling thread: `pads` holds kPadSets * nb planes per thread of the
// team a transform starts when `parallel`, else the caller's own.
template <typename T>
T* thread_pads(T* pads, bool parallel, Index nb, Index plane) {
  return pads + (parallel ? omp_get_thread_num() : 0) * kPadSets * nb * plane;
}

// U[xi][o][i] = (G g G^T)[xi] with g = filter(o, i), G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
// Filters are transformed in blocks of kWeightBlock inputs into a small [i][16] buffer, then
// written out as 16 contiguous runs (direct [xi] scatter writes would touch 16 streams at once).
constexpr Index kWeightBlock = 64;

template <typename T, typename Filter>
void transform_weights(Index Cout, Index Cin, Filter filter, bool threads, T* U) {
  const T half = T(0.5);
  const Index blocks = (Cin + kWeightBlock - 1) / kWeightBlock;
#pragma omp parallel for collapse(2) schedule(static) if (threads && Cout * Cin >= 4096)
  for (Index o = 0; o < Cout; ++o) {
    for (Index blk = 0; blk < blocks; ++blk) {
      const Index i0 = blk * kWeightBlock, ni = std::min(kWeightBlock, Cin - i0);
      T u[kWeightBlock][16];
      for (Index j = 0; j < ni; ++j) {
        T g[3][3];
        filter(o, i0 + j, g);
        T t[4][3];  // G g
        for (int b = 0; b < 3; ++b) {
          t[0][b] = g[0][b];
          t[1][b] = (g[0][b] + g[1][b] + g[2][b]) * half;
          t[2][b] = (g[0][b] - g[1][b] + g[2][b]) * half;
          t[3][b] = g[2][b];
        }
        for (int a = 0; a < 4; ++a) {  // (G g) G^T
          u[j][a * 4 + 0] = t[a][0];
          u[j][a * 4 + 1] = (t[a][0] + t[a][1] + t[a][2]) * half;
          u[j][a * 4 + 2] = (t[a][0] - t[a][1] + t[a][2]) * half;
          u[j][a * 4 + 3] = t[a][2];
        }
      }
      for (int xi = 0; xi < 16; ++xi) {
        T* dst = U + (xi * Cout + o) * Cin + i0;
        for (Index j = 0; j < ni; ++j) dst[j] = u[j][xi];
      }
    }
  }
}

// Tile t = (ty, tx) of an image starts at in_offset[t] = 2 ty Wp + 2 tx in the padded input
// plane and at out_offset[t] = 2 ty (2 TQ) + 2 tx in a 2TP x 2TQ output plane. With these, the
// transforms run over all tiles of a plane in one flat loop (gathers and scatters), which
// vectorises even when a map has only 2 or 4 tiles per row.
struct TileOffsets {
  const std::int32_t* in;
  const std::int32_t* out;
};

TileOffsets tile_offsets(const Problem& pb) {
  thread_local std::vector<std::int32_t> offsets;
  offsets.resize(static_cast<std::size_t>(2 * pb.tiles()));
  for (Index ty = 0; ty < pb.TP(); ++ty) {
    for (Index tx = 0; tx < pb.TQ(); ++tx) {
      offsets[ty * pb.TQ() + tx] = static_cast<std::int32_t>(2 * ty * pb.Wp() + 2 * tx);
      offsets[pb.tiles() + ty * pb.TQ() + tx] = static_cast<std::int32_t>(4 * ty * pb.TQ() + 2 * tx);
    }
  }
  return {offsets.data(), offsets.data() + pb.tiles()};
}

// V[xi][c][i*tiles + t] = (B^T d B)[xi] for the 4x4 tile d of image n0+i, channel c, with
// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. `pads`: 2 nb Hp x Wp planes per thread of the
// team this function starts when `parallel` (else the caller's own; see thread_pads).
// NOTE: a channel's planes are padded one channel ahead of their transform: reading a plane right
// after its (masked vector) stores stalls on failed store-to-load forwarding (measured: this
// function took 15% of a 512->512 4x4 forward+backward with one plane padded and read at a time).
template <typename T>
void transform_input(const T* in, const Problem& pb, const TileOffsets& offsets, Index n0, Index nb,
                     bool parallel, T* pads, T* V) {
  const Index tiles = pb.tiles(), cols = nb * tiles, Wp = pb.Wp(), plane = pb.Hp() * Wp;
  const Index xs = component_stride<T>(pb.Cin, cols);
  const std::int32_t* start = offsets.in;
  const auto pad_channel = [&](Index c, T* area) {
    for (Index i = 0; i < nb; ++i) {
      T* pad = area + i * plane;
      const T* src = in + ((n0 + i) * pb.Cin + c) * pb.Hin * pb.Win;
      for (Index hp = 0; hp < pb.Hp(); ++hp) {  // each padded row written once
        const Index h = hp - pb.ph;
        if (h < 0 || h >= pb.Hin) {
          std::fill(pad + hp * Wp, pad + (hp + 1) * Wp, T(0));
        } else {
          copy_row_padded(pad + hp * Wp, src + h * pb.Win - pb.pw, pb.pw, pb.pw + pb.Win, Wp);
        }
      }
    }
  };
  const auto transform_channel = [&](Index c, const T* area) {
    if (row_transforms<T>(pb.TQ())) {
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        for (Index i = 0; i < nb; ++i)
          for (Index ty = 0; ty < pb.TP(); ++ty)
            winograd_input_row_avx512(area + i * plane, ty, pb.TQ(), Wp, V + c * cols + i * tiles, xs);
      }
#endif
      return;
    }
    for (Index i = 0; i < nb; ++i) {
      const T* r0 = area + i * plane;
      const T* r1 = r0 + Wp;
      const T* r2 = r0 + 2 * Wp;
      const T* r3 = r0 + 3 * Wp;
      T* v = V + c * cols + i * tiles;
#pragma omp simd
      for (Index t = 0; t < tiles; ++t) {
        const Index o = start[t];
        // rows of B^T d, one per column b of the tile
        const T a0 = r0[o] - r2[o], a1 = r0[o + 1] - r2[o + 1], a2 = r0[o + 2] - r2[o + 2], a3 = r0[o + 3] - r2[o + 3];
        const T b0 = r1[o] + r2[o], b1 = r1[o + 1] + r2[o + 1], b2 = r1[o + 2] + r2[o + 2], b3 = r1[o + 3] + r2[o + 3];
        const T c0 = r2[o] - r1[o], c1 = r2[o + 1] - r1[o + 1], c2 = r2[o + 2] - r1[o + 2], c3 = r2[o + 3] - r1[o + 3];
        const T d0 = r1[o] - r3[o], d1 = r1[o + 1] - r3[o + 1], d2 = r1[o + 2] - r3[o + 2], d3 = r1[o + 3] - r3[o + 3];
        // (B^T d) B
        v[0 * xs + t] = a0 - a2, v[1 * xs + t] = a1 + a2, v[2 * xs + t] = a2 - a1, v[3 * xs + t] = a1 - a3;
        v[4 * xs + t] = b0 - b2, v[5 * xs + t] = b1 + b2, v[6 * xs + t] = b2 - b1, v[7 * xs + t] = b1 - b3;
        v[8 * xs + t] = c0 - c2, v[9 * xs + t] = c1 + c2, v[10 * xs + t] = c2 - c1, v[11 * xs + t] = c1 - c3;
        v[12 * xs + t] = d0 - d2, v[13 * xs + t] = d1 + d2, v[14 * xs + t] = d2 - d1, v[15 * xs + t] = d1 - d3;
      }
    }
  };
  // Each thread takes a contiguous range of channels and pads channel c + 1 before transforming
  // channel c (two sets of nb planes), so no plane is read right after it was written.
#pragma omp parallel if (parallel && pb.Cin * nb >= 16)
  {
    const Index team = omp_get_num_threads(), u = omp_get_thread_num();
    const Index begin = pb.Cin * u / team, end = pb.Cin * (u + 1) / team;
    T* const areas = thread_pads(pads, parallel, nb, plane);
    if (begin < end) pad_channel(begin, areas);
    for (Index c = begin; c < end; ++c) {
      if (c + 1 < end) pad_channel(c + 1, areas + (c + 1 - begin) % 2 * nb * plane);
      transform_channel(c, areas + (c - begin) % 2 * nb * plane);
    }
  }
}

// out[n0+i, o] = A^T M A per tile (+ bias[o]), A^T = [1 1 1 0; 0 1 -1 -1]: tiles are scattered
// into 2TP x 2TQ planes (nb of them from `pads`, as in transform_input) whose rows are then copied
// out, cropping the partial tiles at an odd edge. All nb planes are written before any is copied
// (store-to-load forwarding, see transform_input).
template <typename T>
void transform_output(const T* M, const Problem& pb, const TileOffsets& offsets, Index n0, Index nb,
                      const T* bias, bool parallel, T* pads, T* out) {
  const Index TQ = pb.TQ(), tiles = pb.tiles(), cols = nb * tiles, plane = pb.Hp() * pb.Wp();
  const Index xs = component_stride<T>(pb.Cout, cols), W2 = 2 * TQ;
  const std::int32_t* start = offsets.out;
#pragma omp parallel for schedule(static) if (parallel && pb.Cout * nb >= 16)
  for (Index o = 0; o < pb.Cout; ++o) {
    T* const area = thread_pads(pads, parallel, nb, plane);  // 2TP x 2TQ <= Hp x Wp
    const T b = bias ? bias[o] : T(0);
    if (row_transforms<T>(TQ) && pb.Hout == 2 * pb.TP() && pb.Wout == W2) {  // no partial tiles
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        for (Index i = 0; i < nb; ++i) {
          T* plane_out = out + ((n0 + i) * pb.Cout + o) * pb.Hout * pb.Wout;
          for (Index ty = 0; ty < pb.TP(); ++ty)
            winograd_output_row_avx512(M + o * cols + i * tiles, ty, TQ, xs, b, plane_out);
        }
      }
#endif
      continue;
    }
    for (Index i = 0; i < nb; ++i) {
      T* y = area + i * plane;
      const T* m = M + o * cols + i * tiles;
#pragma omp simd
      for (Index t = 0; t < tiles; ++t) {
        // A^T M: two rows, per column of M
        const T s00 = m[0 * xs + t] + m[4 * xs + t] + m[8 * xs + t];
        const T s01 = m[1 * xs + t] + m[5 * xs + t] + m[9 * xs + t];
        const T s02 = m[2 * xs + t] + m[6 * xs + t] + m[10 * xs + t];
        const T s03 = m[3 * xs + t] + m[7 * xs + t] + m[11 * xs + t];
        const T s10 = m[4 * xs + t] - m[8 * xs + t] - m[12 * xs + t];
        const T s11 = m[5 * xs + t] - m[9 * xs + t] - m[13 * xs + t];
        const T s12 = m[6 * xs + t] - m[10 * xs + t] - m[14 * xs + t];
        const T s13 = m[7 * xs + t] - m[11 * xs + t] - m[15 * xs + t];
        T* dst = y + start[t];
        dst[0] = s00 + s01 + s02 + b;
        dst[1] = s01 - s02 - s03 + b;
        dst[W2] = s10 + s11 + s12 + b;
        dst[W2 + 1] = s11 - s12 - s13 + b;
      }
    }
    for (Index i = 0; i < nb; ++i) {
      const T* y = area + i * plane;
      T* plane_out = out + ((n0 + i) * pb.Cout + o) * pb.Hout * pb.Wout;
      for (Index h = 0; h < pb.Hout; ++h) std::copy(y + h * W2, y + h * W2 + pb.Wout, plane_out + h * pb.Wout);
    }
  }
}

// Runs a problem with transformed weights U [16][Cout][Cin]: batches of images, one OpenMP
// team over batches (each thread with its own buffers and single-threaded GEMMs) when there are
// several threads, else batches in sequence with threaded GEMMs and transforms.
template <typename T>
void run(const T* in, const T* U, const T* bias, const Problem& pb, bool threads, T* out) {
  const BatchPlan plan = make_batch_plan<T>(pb, threads);
  const Index tiles = pb.tiles(), nb = plan.nb;
  const Index v_elems = 16 * component_stride<T>(pb.Cin, nb * tiles);
  const Index m_elems = 16 * component_stride<T>(pb.Cout, nb * tiles);

  // All scratch comes from the calling thread, before any team starts.
  thread_local std::vector<T> scratch;
  const auto needed =
      static_cast<std::size_t>(plan.buffer_sets * (v_elems + m_elems) + plan.max_threads * plan.pad_elems);
  if (scratch.size() < needed) scratch.resize(needed);
  // NOTE: team members must use these pointers: `scratch` names each thread's own thread_local.
  T* const buffers = scratch.data();
  const TileOffsets offsets = tile_offsets(pb);
  T* const pads = buffers + plan.buffer_sets * (v_elems + m_elems);

  const auto batch = [&](Index b, int set, bool parallel) {
    const Index n0 = b * nb, count = std::min(nb, pb.N - n0), cols = count * tiles;
    T* V = buffers + set * (v_elems + m_elems);
    T* M = V + v_elems;
    T* my_pads = parallel ? pads : pads + set * plan.pad_elems;  // a team member brings its own planes
    transform_input(in, pb, offsets, n0, count, parallel && threads, my_pads, V);
    const Index vs = component_stride<T>(pb.Cin, cols), ms = component_stride<T>(pb.Cout, cols);
    for (int xi = 0; xi < 16; ++xi) {
      gemm<T>(false, false, pb.Cout, cols, pb.Cin, U + xi * pb.Cout * pb.Cin, pb.Cin, V + xi * vs, cols,
              M + xi * ms, cols, false);
    }
    transform_output(M, pb, offsets, n0, count, bias, parallel && threads, my_pads, out);
  };
  if (!plan.team) {
    for (Index b = 0; b < plan.batches; ++b) batch(b, 0, true);
    return;
  }
  const SingleThreadedBlas single_threaded_blas;
#pragma omp parallel for schedule(dynamic, 1) num_threads(plan.max_threads)
  for (Index b = 0; b < plan.batches; ++b) batch(b, omp_get_thread_num(), false);
}

// Yhat[xi][o][i*tiles + t] = (A dy A^T)[xi] for the 2x2 tile dy of grad_out image n0+i,
// channel o (zero past an odd edge): the gradient of the 16 products M of the forward pass.
// Padded planes as in transform_input: all nb written before any is read.
template <typename T>
void transform_grad_output(const T* grad_out, const Problem& pb, const TileOffsets& offsets, Index n0,
                           Index nb, bool parallel, T* pads, T* Yhat) {
  const Index TQ = pb.TQ(), tiles = pb.tiles(), cols = nb * tiles, plane = pb.Hp() * pb.Wp();
  const Index xs = component_stride<T>(pb.Cout, cols), W2 = 2 * TQ;
  const std::int32_t* start = offsets.out;
#pragma omp parallel for schedule(static) if (parallel && pb.Cout * nb >= 16)
  for (Index o = 0; o < pb.Cout; ++o) {
    T* const area = thread_pads(pads, parallel, nb, plane);  // 2TP x 2TQ planes
    for (Index i = 0; i < nb; ++i) {
      T* g = area + i * plane;  // zero past the edge
      const T* src = grad_out + ((n0 + i) * pb.Cout + o) * pb.Hout * pb.Wout;
      for (Index h = 0; h < 2 * pb.TP(); ++h) {
        if (h < pb.Hout) {
          copy_row_padded(g + h * W2, src + h * pb.Wout, 0, pb.Wout, W2);
        } else {
          std::fill(g + h * W2, g + (h + 1) * W2, T(0));
        }
      }
    }
    for (Index i = 0; i < nb; ++i) {
      const T* g = area + i * plane;
      T* y = Yhat + o * cols + i * tiles;
#pragma omp simd
      for (Index t = 0; t < tiles; ++t) {
        const T* d = g + start[t];
        const T p = d[0], q = d[1], r = d[W2], u = d[W2 + 1];
        // rows of A dy: [p q], [p+r q+u], [p-r q-u], [-r -u]; then each row [a b] -> [a a+b a-b -b]
        const T r1a = p + r, r1b = q + u, r2a = p - r, r2b = q - u;
        y[0 * xs + t] = p, y[1 * xs + t] = p + q, y[2 * xs + t] = p - q, y[3 * xs + t] = -q;
        y[4 * xs + t] = r1a, y[5 * xs + t] = r1a + r1b, y[6 * xs + t] = r1a - r1b, y[7 * xs + t] = -r1b;
        y[8 * xs + t] = r2a, y[9 * xs + t] = r2a + r2b, y[10 * xs + t] = r2a - r2b, y[11 * xs + t] = -r2b;
        y[12 * xs + t] = -r, y[13 * xs + t] = -r - u, y[14 * xs + t] = u - r, y[15 * xs + t] = u;
      }
    }
  }
}

// grad_w[o][i] = G^T dU[.][o][i] G (4x4 -> 3x3), G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1].
template <typename T>
void inverse_transform_weights(const T* dU, Index Cout, Index Cin, bool threads, T* grad_w) {
  const T half = T(0.5);
  const Index xs = Cout * Cin;
#pragma omp parallel for schedule(static) if (threads && Cout * Cin >= 4096)
  for (Index o = 0; o < Cout; ++o) {
    for (Index i = 0; i < Cin; ++i) {
      const T* u = dU + o * Cin + i;
      T e[3][4];  // G^T dU
      for (int b = 0; b < 4; ++b) {
        const T u0 = u[(0 + b) * xs], u1 = u[(4 + b) * xs], u2 = u[(8 + b) * xs], u3 = u[(12 + b) * xs];
        e[0][b] = u0 + (u1 + u2) * half;
        e[1][b] = (u1 - u2) * half;
        e[2][b] = (u1 + u2) * half + u3;
      }
      T* w = grad_w + (o * Cin + i) * 9;
      for (int a = 0; a < 3; ++a) {  // (G^T dU) G
        w[a * 3 + 0] = e[a][0] + (e[a][1] + e[a][2]) * half;
        w[a * 3 + 1] = (e[a][1] - e[a][2]) * half;
        w[a * 3 + 2] = (e[a][1] + e[a][2]) * half + e[a][3];
      }
    }
  }
}

// The weight gradient of a forward problem: dU[xi] = sum over batches of Yhat[xi] V[xi]^T, then
// grad_w = G^T dU G. With a team, thread u sums a fixed range of batches into its own dU and the
// dU are added in thread order, so results are reproducible for a given thread count.
template <typename T>
void run_weight_grad(const T* x, const T* grad_out, const Problem& pb, bool threads, T* grad_w) {
  const BatchPlan plan = make_batch_plan<T>(pb, threads);
  const Index tiles = pb.tiles(), nb = plan.nb;
  const Index v_elems = 16 * component_stride<T>(pb.Cin, nb * tiles);
  const Index y_elems = 16 * component_stride<T>(pb.Cout, nb * tiles);
  const Index u_elems = 16 * pb.Cout * pb.Cin, set_elems = v_elems + y_elems + u_elems;

  thread_local std::vector<T> scratch;
  const auto needed = static_cast<std::size_t>(plan.buffer_sets * set_elems + plan.max_threads * plan.pad_elems);
  if (scratch.size() < needed) scratch.resize(needed);
  T* const buffers = scratch.data();  // NOTE: team members use this pointer, not `scratch`
  T* const pads = buffers + plan.buffer_sets * set_elems;
  const TileOffsets offsets = tile_offsets(pb);

  // Adds batch b into set `set`'s dU (overwriting it when !accumulate).
  const auto batch = [&](Index b, int set, bool parallel, bool accumulate) {
    const Index n0 = b * nb, count = std::min(nb, pb.N - n0), cols = count * tiles;
    T* V = buffers + set * set_elems;
    T* Y = V + v_elems;
    T* dU = Y + y_elems;
    T* my_pads = parallel ? pads : pads + set * plan.pad_elems;
    transform_input(x, pb, offsets, n0, count, parallel && threads, my_pads, V);
    transform_grad_output(grad_out, pb, offsets, n0, count, parallel && threads, my_pads, Y);
    const Index vs = component_stride<T>(pb.Cin, cols), ys = component_stride<T>(pb.Cout, cols);
    for (int xi = 0; xi < 16; ++xi) {
      gemm<T>(false, true, pb.Cout, pb.Cin, cols, Y + xi * ys, cols, V + xi * vs, cols, dU + xi * pb.Cout * pb.Cin,
              pb.Cin, accumulate);
    }
  };
  T* const dU0 = buffers + v_elems + y_elems;
  if (!plan.team) {
    for (Index b = 0; b < plan.batches; ++b) batch(b, 0, true, b > 0);
  } else {
    const SingleThreadedBlas single_threaded_blas;
#pragma omp parallel num_threads(plan.max_threads)
    {
      const int u = omp_get_thread_num(), members = omp_get_num_threads();
      const Index begin = plan.batches * u / members, end = plan.batches * (u + 1) / members;
      T* mine = buffers + u * set_elems + v_elems + y_elems;
      if (begin == end) std::fill(mine, mine + u_elems, T(0));
      for (Index b = begin; b < end; ++b) batch(b, u, false, b > begin);
#pragma omp barrier
#pragma omp for schedule(static)
      for (Index e = 0; e < u_elems; ++e) {
        T sum = dU0[e];
        for (int v = 1; v < members; ++v) sum += buffers[v * set_elems + v_elems + y_elems + e];
        dU0[e] = sum;
      }
    }
  }
  inverse_transform_weights(dU0, pb.Cout, pb.Cin, threads, grad_w);
}

template <typename T>
std::vector<T>& weight_buffer() {
  thread_local std::vector<T> buffer;
  return buffer;
}

}  // namespace

bool winograd_applicable(const ConvGeom& g) {
  // Narrow channel counts make the 16 GEMMs too thin to pay for the transforms (the 3-channel
  // stem stays on im2col); padding above 2 has no stride-1 input-gradient counterpart here.
  return g.R == 3 && g.S == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.G == 1 && g.ph <= 2 &&
         g.pw <= 2 && g.C >= 16 && g.K >= 16 && g.P >= 2 && g.Q >= 2;
}

template <typename T>
void winograd_forward(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out) {
  std::vector<T>& U = weight_buffer<T>();
  U.resize(static_cast<std::size_t>(16 * g.K * g.C));
  transform_weights<T>(g.K, g.C, [weight, &g](Index k, Index c, T f[3][3]) {
    const T* src = weight + (k * g.C + c) * 9;
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s) f[r][s] = src[r * 3 + s];
  }, g.worth_threads(), U.data());
  const Problem pb{g.N, g.C, g.H, g.W, g.K, g.P, g.Q, g.ph, g.pw};
  run(x, U.data(), bias, pb, g.worth_threads(), out);
}

template <typename T>
void winograd_backward_input(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x) {
  // grad_x = conv(grad_out padded by 2 - pad, W') with W'[c, k, r, s] = W[k, c, 2 - r, 2 - s].
  std::vector<T>& U = weight_buffer<T>();
  U.resize(static_cast<std::size_t>(16 * g.K * g.C));
  transform_weights<T>(g.C, g.K, [weight, &g](Index c, Index k, T f[3][3]) {
    const T* src = weight + (k * g.C + c) * 9;
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s) f[r][s] = src[(2 - r) * 3 + (2 - s)];
  }, g.worth_threads(), U.data());
  const Problem pb{g.N, g.K, g.P, g.Q, g.C, g.H, g.W, 2 - g.ph, 2 - g.pw};
  run(grad_out, U.data(), static_cast<const T*>(nullptr), pb, g.worth_threads(), grad_x);
}

template <typename T>
void winograd_backward_weight(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w) {
  const Problem pb{g.N, g.C, g.H, g.W, g.K, g.P, g.Q, g.ph, g.pw};
  run_weight_grad(x, grad_out, pb, g.worth_threads(), grad_w);
}

template void winograd_forward<float>(const float*, const float*, const float*, const ConvGeom&, float*);
template void winograd_forward<double>(const double*, const double*, const double*, const ConvGeom&, double*);
template void winograd_backward_input<float>(const float*, const float*, const ConvGeom&, float*);
template void winograd_backward_input<double>(const double*, const double*, const ConvGeom&, double*);
template void winograd_backward_weight<float>(const float*, const float*, const ConvGeom&, float*);
template void winograd_backward_weight<double>(const double*, const double*, const ConvGeom&, double*);

}  // namespace selfsup::core::cpu::conv2d_internal
