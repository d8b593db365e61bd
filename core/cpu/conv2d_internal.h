// Internal to core/cpu/conv2d*.cpp: the geometry of one convolution call and the depthwise
// kernels (core/cpu/conv2d_depthwise.cpp) that conv2d.cpp dispatches to.
// Letters: x [N, C, H, W], weight [K, C/G, R, S], out [N, K, P, Q], G groups.
#pragma once

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "core/backend.h"

namespace selfsup::core::cpu::conv2d_internal {

using Index = std::int64_t;

// Loops below this many elements stay single-threaded (thread start-up would dominate).
constexpr Index kParallelMin = Index{1} << 15;
// Convolutions below this many multiply-adds run on the calling thread alone: waking a team
// costs microseconds on an idle machine but milliseconds on a loaded one (measured with
// libgomp's default wait policy on 2 shared cores), which a tiny conv never earns back.
constexpr Index kParallelMinMacs = Index{1} << 21;

struct ConvGeom {
  Index N, C, H, W;  // input
  Index K, R, S;     // weight
  Index P, Q;        // output spatial
  Index G, Cg, Kg;   // groups, input / output channels per group
  Index sh, sw, ph, pw, dh, dw;
  // Offset table of im2col / col2im for narrow maps (see conv2d.cpp tap_offsets), else null.
  const std::int32_t* taps = nullptr;
  Index HW() const { return H * W; }
  Index PQ() const { return P * Q; }
  Index CRS() const { return Cg * R * S; }  // rows of one group's column matrix
  bool depthwise() const { return Cg == 1 && G > 1; }
  Index macs() const { return N * K * P * Q * Cg * R * S; }  // multiply-adds of the forward
  bool worth_threads() const { return macs() >= kParallelMinMacs; }
  // 1x1, stride 1, no padding: the column matrix of one image is the image itself.
  bool pointwise() const { return R == 1 && S == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

inline ConvGeom make_geom(const Shape& x, const Shape& weight, const Shape& out, const Conv2dParams& p) {
  ConvGeom g{};
  g.N = x[0], g.C = x[1], g.H = x[2], g.W = x[3];
  g.K = weight[0], g.R = weight[2], g.S = weight[3];
  g.P = out[2], g.Q = out[3];
  g.G = p.groups, g.Cg = weight[1], g.Kg = g.K / p.groups;
  g.sh = p.stride_h, g.sw = p.stride_w, g.ph = p.pad_h, g.pw = p.pad_w;
  g.dh = p.dilation_h, g.dw = p.dilation_w;
  return g;
}

inline Index floor_div(Index a, Index b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Output columns q whose input column q*stride - pad + offset lies in [0, width): [lo, hi).
struct ColRange {
  Index lo, hi;
};
inline ColRange valid_cols(Index offset, Index pad, Index stride, Index width, Index count) {
  // q*stride >= pad - offset  and  q*stride <= width - 1 + pad - offset
  const Index lo = std::max<Index>(0, -floor_div(offset - pad, stride));
  const Index hi = std::min<Index>(count, floor_div(width - 1 + pad - offset, stride) + 1);
  return {lo, std::max(lo, hi)};
}

// One image row of a column matrix, stride 1: dst[q] = src[q] for q in [lo, hi), 0 elsewhere in
// [0, n). With AVX-512, masked loads/stores handle a row of up to 16 floats in one go (rows of
// 4x4..32x32 maps are too short for memcpy calls to pay off); lanes outside [lo, hi) are never
// read, so src may point into the padding.
template <typename T>
inline void copy_row_padded(T* dst, const T* src, Index lo, Index hi, Index n) {
#if defined(__AVX512F__)
  constexpr Index kLanes = 64 / static_cast<Index>(sizeof(T));
  for (Index q0 = 0; q0 < n; q0 += kLanes) {
    const Index m = std::min(kLanes, n - q0);
    const Index a = std::max<Index>(lo - q0, 0), b = std::min<Index>(hi - q0, m);
    const std::uint32_t store = (std::uint32_t{1} << m) - 1;
    const std::uint32_t load = b > a ? ((std::uint32_t{1} << (b - a)) - 1) << a : 0;
    if constexpr (std::is_same_v<T, float>) {
      _mm512_mask_storeu_ps(dst + q0, static_cast<__mmask16>(store),
                            _mm512_maskz_loadu_ps(static_cast<__mmask16>(load), src + q0));
    } else {
      _mm512_mask_storeu_pd(dst + q0, static_cast<__mmask8>(store),
                            _mm512_maskz_loadu_pd(static_cast<__mmask8>(load), src + q0));
    }
  }
#else
  std::fill(dst, dst + lo, T(0));
  std::copy(src + lo, src + hi, dst + lo);
  std::fill(dst + hi, dst + n, T(0));
#endif
}

// The adjoint, stride 1: dst[q] += src[q] for q in [lo, hi).
template <typename T>
inline void add_row(T* dst, const T* src, Index lo, Index hi) {
#if defined(__AVX512F__)
  constexpr Index kLanes = 64 / static_cast<Index>(sizeof(T));
  for (Index q0 = lo; q0 < hi; q0 += kLanes) {
    const Index m = std::min(kLanes, hi - q0);
    const std::uint32_t mask = (std::uint32_t{1} << m) - 1;
    if constexpr (std::is_same_v<T, float>) {
      const auto k = static_cast<__mmask16>(mask);
      _mm512_mask_storeu_ps(dst + q0, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, dst + q0),
                                                       _mm512_maskz_loadu_ps(k, src + q0)));
    } else {
      const auto k = static_cast<__mmask8>(mask);
      _mm512_mask_storeu_pd(dst + q0, k, _mm512_add_pd(_mm512_maskz_loadu_pd(k, dst + q0),
                                                       _mm512_maskz_loadu_pd(k, src + q0)));
    }
  }
#else
  for (Index q = lo; q < hi; ++q) dst[q] += src[q];
#endif
}

#if defined(__AVX512F__)
// Up to 16 entries [j, j + m) of an offset table: the lanes in use, the offsets, and the lanes
// whose offset is inside the plane (>= 0).
struct OffsetChunk {
  __mmask16 lanes, inside;
  __m512i idx;
};
inline OffsetChunk load_offsets(const std::int32_t* offsets, Index m) {
  const auto lanes = static_cast<__mmask16>((std::uint32_t{1} << m) - 1);
  const __m512i idx = _mm512_maskz_loadu_epi32(lanes, offsets);
  return {lanes, _mm512_mask_cmpge_epi32_mask(lanes, idx, _mm512_setzero_si512()), idx};
}
#endif

// dst[j] = offsets[j] >= 0 ? plane[offsets[j]] : 0 for j in [0, n): one im2col row through the
// offset table. With AVX-512, masked gathers (the compiler kept the conditional load scalar:
// 15% of a 3x3 stride-2 forward at 16x16 in a profile).
template <typename T>
inline void gather_row(T* dst, const T* plane, const std::int32_t* offsets, Index n) {
#if defined(__AVX512F__)
  constexpr Index kLanes = 64 / static_cast<Index>(sizeof(T));
  for (Index j = 0; j < n; j += kLanes) {
    const OffsetChunk c = load_offsets(offsets + j, std::min(kLanes, n - j));
    if constexpr (std::is_same_v<T, float>) {
      _mm512_mask_storeu_ps(dst + j, c.lanes, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), c.inside, c.idx, plane, 4));
    } else {
      _mm512_mask_storeu_pd(dst + j, static_cast<__mmask8>(c.lanes),
                            _mm512_mask_i32gather_pd(_mm512_setzero_pd(), static_cast<__mmask8>(c.inside),
                                                     _mm512_castsi512_si256(c.idx), plane, 8));
    }
  }
#else
  for (Index j = 0; j < n; ++j) dst[j] = offsets[j] >= 0 ? plane[offsets[j]] : T(0);
#endif
}

// The adjoint: plane[offsets[j]] += src[j] where offsets[j] >= 0. The offsets of one row (one
// kernel tap) are distinct, so a vector's gather-add-scatter has no conflicting lanes.
template <typename T>
inline void scatter_add_row(T* plane, const T* src, const std::int32_t* offsets, Index n) {
#if defined(__AVX512F__)
  constexpr Index kLanes = 64 / static_cast<Index>(sizeof(T));
  for (Index j = 0; j < n; j += kLanes) {
    const OffsetChunk c = load_offsets(offsets + j, std::min(kLanes, n - j));
    if constexpr (std::is_same_v<T, float>) {
      const __m512 sum = _mm512_add_ps(_mm512_mask_i32gather_ps(_mm512_setzero_ps(), c.inside, c.idx, plane, 4),
                                       _mm512_maskz_loadu_ps(c.inside, src + j));
      _mm512_mask_i32scatter_ps(plane, c.inside, c.idx, sum, 4);
    } else {
      const auto k = static_cast<__mmask8>(c.inside);
      const __m256i idx8 = _mm512_castsi512_si256(c.idx);
      const __m512d sum = _mm512_add_pd(_mm512_mask_i32gather_pd(_mm512_setzero_pd(), k, idx8, plane, 8),
                                        _mm512_maskz_loadu_pd(k, src + j));
      _mm512_mask_i32scatter_pd(plane, k, idx8, sum, 8);
    }
  }
#else
  for (Index j = 0; j < n; ++j) {
    if (offsets[j] >= 0) plane[offsets[j]] += src[j];
  }
#endif
}

// Stride 2 (any dilation): one (channel, r, s) row of a column matrix, all P x Q outputs of one
// image, to or from its input plane. Output (p, q) reads plane[ih(p)][base + 2q] with
// ih(p) = p * sh + row0 (a row outside [0, H) or a column outside [0, W) reads 0).
// With AVX-512, chunks of outputs are masked loads of the contiguous input window and a permute
// of its even lanes; the masks depend only on the chunk, so they are computed once per plane.
// Lanes outside the plane are never read or written. Used for maps at least 9 outputs wide:
// narrower ones are faster through conv2d.cpp's offset table (measured: 8 and 4 wide 15-35%
// slower with rows, 16 wide 35% faster with rows; one thread, ResNet-18 stride-2 layers).
struct Stride2Plane {
  Index H, W, P, Q, sh, row0, base;
};

#if defined(__AVX512F__)
// The register types per element type (a specialisation: std::conditional_t would drop the
// vector types' attributes).
template <typename T>
struct Avx512Types;
template <>
struct Avx512Types<float> {
  using Vec = __m512;
  using Mask = __mmask16;
};
template <>
struct Avx512Types<double> {
  using Vec = __m512d;
  using Mask = __mmask8;
};

template <typename T>
struct Avx512 {
  static constexpr Index kLanes = 64 / static_cast<Index>(sizeof(T));
  using Vec = typename Avx512Types<T>::Vec;
  using Mask = typename Avx512Types<T>::Mask;
  static Vec load(std::uint64_t mask, const T* p) {
    if constexpr (std::is_same_v<T, float>) return _mm512_maskz_loadu_ps(static_cast<Mask>(mask), p);
    else return _mm512_maskz_loadu_pd(static_cast<Mask>(mask), p);
  }
  static void store(std::uint64_t mask, T* p, Vec v) {
    if constexpr (std::is_same_v<T, float>) _mm512_mask_storeu_ps(p, static_cast<Mask>(mask), v);
    else _mm512_mask_storeu_pd(p, static_cast<Mask>(mask), v);
  }
  static Vec zero() {
    if constexpr (std::is_same_v<T, float>) return _mm512_setzero_ps();
    else return _mm512_setzero_pd();
  }
  static Vec add(Vec a, Vec b) {
    if constexpr (std::is_same_v<T, float>) return _mm512_add_ps(a, b);
    else return _mm512_add_pd(a, b);
  }
  // Lane indices for permute2 (32-bit for float, 64-bit for double), built once per plane.
  static __m512i indices(const std::int64_t* idx) {
    if constexpr (std::is_same_v<T, float>) {
      alignas(64) std::int32_t i32[16];
      for (int k = 0; k < 16; ++k) i32[k] = static_cast<std::int32_t>(idx[k]);
      return _mm512_load_si512(i32);
    } else {
      return _mm512_load_si512(idx);
    }
  }
  // out[k] = idx[k] < kLanes ? a[idx[k]] : b[idx[k] - kLanes]
  static Vec permute2(Vec a, __m512i idx, Vec b) {
    if constexpr (std::is_same_v<T, float>) return _mm512_permutex2var_ps(a, idx, b);
    else return _mm512_permutex2var_pd(a, idx, b);
  }
};

// Bits [a, b) of a lane mask; empty when b <= a.
inline std::uint64_t lane_bits(Index a, Index b) {
  return b > a ? (std::uint64_t{1} << b) - (std::uint64_t{1} << a) : 0;
}
#endif

template <typename T>
inline void im2col_plane_stride2(T* dst, const T* plane, const Stride2Plane& g) {
#if defined(__AVX512F__)
  using V = Avx512<T>;
  constexpr Index L = V::kLanes;
  const auto row_ok = [&](Index p) { const Index ih = p * g.sh + g.row0; return ih >= 0 && ih < g.H; };
  const auto row_ptr = [&](Index p) { return plane + (p * g.sh + g.row0) * g.W; };
  alignas(64) std::int64_t even_lanes[16] = {};
  for (Index k = 0; k < L; ++k) even_lanes[k] = 2 * k;
  const __m512i even = V::indices(even_lanes);
  for (Index q0 = 0; q0 < g.Q; q0 += L) {
    const Index start = g.base + 2 * q0;
    const std::uint64_t window = lane_bits(std::clamp<Index>(-start, 0, 2 * L), std::clamp<Index>(g.W - start, 0, 2 * L));
    const std::uint64_t lo = window & lane_bits(0, L), hi = window >> L;
    const std::uint64_t store = lane_bits(0, std::min(L, g.Q - q0));
    for (Index p = 0; p < g.P; ++p) {
      T* out = dst + p * g.Q + q0;
      if (!row_ok(p)) {
        V::store(store, out, V::zero());
        continue;
      }
      const T* src = row_ptr(p) + start;
      V::store(store, out, V::permute2(V::load(lo, src), even, V::load(hi, src + L)));
    }
  }
#else
  for (Index p = 0; p < g.P; ++p) {
    const Index ih = p * g.sh + g.row0;
    for (Index q = 0; q < g.Q; ++q) {
      const Index iw = g.base + 2 * q;
      dst[p * g.Q + q] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? plane[ih * g.W + iw] : T(0);
    }
  }
#endif
}

// The adjoint: plane[ih(p)][base + 2q] += src[p * Q + q] for the positions inside the plane.
template <typename T>
inline void col2im_plane_stride2(T* plane, const T* src, const Stride2Plane& g) {
#if defined(__AVX512F__)
  using V = Avx512<T>;
  constexpr Index L = V::kLanes;
  const auto row_ok = [&](Index p) { const Index ih = p * g.sh + g.row0; return ih >= 0 && ih < g.H; };
  const auto row_ptr = [&](Index p) { return plane + (p * g.sh + g.row0) * g.W; };
  const auto add_into = [](std::uint64_t mask, T* at, typename V::Vec v) {
    V::store(mask, at, V::add(V::load(mask, at), v));
  };
  alignas(64) std::int64_t lo_lanes[16] = {}, hi_lanes[16] = {};
  for (Index k = 0; k < L; ++k) {
    lo_lanes[k] = k % 2 == 0 ? k / 2 : L;
    hi_lanes[k] = k % 2 == 0 ? L / 2 + k / 2 : L;
  }
  const __m512i spread_lo = V::indices(lo_lanes), spread_hi = V::indices(hi_lanes);
  for (Index q0 = 0; q0 < g.Q; q0 += L) {
    const Index start = g.base + 2 * q0;
    const std::uint64_t window = lane_bits(std::clamp<Index>(-start, 0, 2 * L), std::clamp<Index>(g.W - start, 0, 2 * L));
    const std::uint64_t lo = window & lane_bits(0, L), hi = window >> L;
    const std::uint64_t load = lane_bits(0, std::min(L, g.Q - q0));
    for (Index p = 0; p < g.P; ++p) {
      if (!row_ok(p)) continue;
      const typename V::Vec values = V::load(load, src + p * g.Q + q0);
      T* at = row_ptr(p) + start;
      add_into(lo, at, V::permute2(values, spread_lo, V::zero()));
      add_into(hi, at + L, V::permute2(values, spread_hi, V::zero()));
    }
  }
#else
  for (Index p = 0; p < g.P; ++p) {
    const Index ih = p * g.sh + g.row0;
    if (ih < 0 || ih >= g.H) continue;
    for (Index q = 0; q < g.Q; ++q) {
      const Index iw = g.base + 2 * q;
      if (iw >= 0 && iw < g.W) plane[ih * g.W + iw] += src[p * g.Q + q];
    }
  }
#endif
}

/// C[M, N] = op(A) op(B) (+ C when accumulate), all row-major with leading dims: OpenBLAS
/// (cblas) when built with it, else Eigen. Single-threaded inside an OpenMP team when the
/// caller holds a SingleThreadedBlas. Defined in conv2d.cpp for float and double.
template <typename T>
void gemm(bool trans_a, bool trans_b, Index M, Index N, Index K, const T* a, Index lda, const T* b,
          Index ldb, T* c, Index ldc, bool accumulate);

// Winograd F(2x2, 3x3) (core/cpu/conv2d_winograd.cpp) for 3x3, stride 1, dilation 1, one group.
/// True when conv2d_forward and conv2d_backward_input of this geometry take the Winograd path.
bool winograd_applicable(const ConvGeom& g);
/// True when conv2d_backward_weight does too: only for maps of at most 8x8 outputs, where its
/// 16 [K, C] GEMMs are large next to the transforms (measured: 8x8 1.2x faster than im2col,
/// 32x32 1.6x slower).
inline bool winograd_weight_grad_applicable(const ConvGeom& g) {
  return winograd_applicable(g) && g.P * g.Q <= 64;
}
template <typename T>
void winograd_forward(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out);
template <typename T>
void winograd_backward_input(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x);
template <typename T>
void winograd_backward_weight(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w);

// Depthwise (Cg == 1): output channel k reads input channel k / Kg. Same contracts as the
// backend's conv2d_* (outputs overwritten). Instantiated for float and double.
template <typename T>
void depthwise_forward(const T* x, const T* weight, const T* bias, const ConvGeom& g, T* out);
template <typename T>
void depthwise_backward_input(const T* grad_out, const T* weight, const ConvGeom& g, T* grad_x);
template <typename T>
void depthwise_backward_weight(const T* grad_out, const T* x, const ConvGeom& g, T* grad_w);

}  // namespace selfsup::core::cpu::conv2d_internal
