// Winograd F(2x2, 3x3) input and output transforms for float, 16 tiles of one tile row at a time
// with AVX-512 (internal to core/cpu/conv2d_winograd.cpp). Tile tx of a row reads input columns
// 2tx .. 2tx+3, so the 16 values a transform needs at column offset b are the even (b = 0, 2) or
// odd (b = 1, 3) lanes of two contiguous loads: four loads and four permutes per input row
// replace four 16-lane gathers. The output transform writes its 2x2 tiles as two interleaved
// rows straight into the output plane. Used for maps at least 8 tiles (16 outputs) wide; the
// arithmetic is the same as the scalar loops in conv2d_winograd.cpp.
#pragma once

#if defined(__AVX512F__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace selfsup::core::cpu::conv2d_internal {

// The lowest `n` lanes (0 <= n <= 16, clamped).
inline __mmask16 first_lanes(std::int64_t n) {
  n = std::clamp<std::int64_t>(n, 0, 16);
  return static_cast<__mmask16>((std::uint32_t{1} << n) - 1);
}

/// One tile row `ty` of a zero-padded input plane (row stride wp) -> v[k * xs + ty * tq + tx],
/// k = 0..15, for the tq tiles of the row.
inline void winograd_input_row_avx512(const float* pad, std::int64_t ty, std::int64_t tq, std::int64_t wp,
                                      float* v, std::int64_t xs) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (std::int64_t tx0 = 0; tx0 < tq; tx0 += 16) {
    const std::int64_t n = std::min<std::int64_t>(16, tq - tx0);
    const __mmask16 lo = first_lanes(2 * n), hi = first_lanes(2 * n - 16), out = first_lanes(n);
    __m512 d[4][4];  // d[r][b][k] = input row 2 ty + r, column 2 (tx0 + k) + b
    for (int r = 0; r < 4; ++r) {
      const float* p = pad + (2 * ty + r) * wp + 2 * tx0;
      const __m512 a0 = _mm512_maskz_loadu_ps(lo, p), a1 = _mm512_maskz_loadu_ps(hi, p + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(lo, p + 2), b1 = _mm512_maskz_loadu_ps(hi, p + 18);
      d[r][0] = _mm512_permutex2var_ps(a0, even, a1);
      d[r][1] = _mm512_permutex2var_ps(a0, odd, a1);
      d[r][2] = _mm512_permutex2var_ps(b0, even, b1);
      d[r][3] = _mm512_permutex2var_ps(b0, odd, b1);
    }
    float* dst = v + ty * tq + tx0;
    for (int b = 0; b < 4; ++b) {  // rows of B^T d: e[a][b]
      const __m512 e0 = _mm512_sub_ps(d[0][b], d[2][b]), e1 = _mm512_add_ps(d[1][b], d[2][b]);
      const __m512 e2 = _mm512_sub_ps(d[2][b], d[1][b]), e3 = _mm512_sub_ps(d[1][b], d[3][b]);
      d[0][b] = e0, d[1][b] = e1, d[2][b] = e2, d[3][b] = e3;
    }
    for (int a = 0; a < 4; ++a) {  // (B^T d) B
      const __m512* e = d[a];
      _mm512_mask_storeu_ps(dst + (4 * a + 0) * xs, out, _mm512_sub_ps(e[0], e[2]));
      _mm512_mask_storeu_ps(dst + (4 * a + 1) * xs, out, _mm512_add_ps(e[1], e[2]));
      _mm512_mask_storeu_ps(dst + (4 * a + 2) * xs, out, _mm512_sub_ps(e[2], e[1]));
      _mm512_mask_storeu_ps(dst + (4 * a + 3) * xs, out, _mm512_sub_ps(e[1], e[3]));
    }
  }
}

/// One tile row `ty` of the 16 products m[k * xs + ty * tq + tx] -> output rows 2 ty and 2 ty + 1
/// of a plane of width 2 tq (row stride 2 tq), plus `bias`.
inline void winograd_output_row_avx512(const float* m, std::int64_t ty, std::int64_t tq, std::int64_t xs,
                                       float bias, float* plane) {
  const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512 b = _mm512_set1_ps(bias);
  const std::int64_t w = 2 * tq;
  for (std::int64_t tx0 = 0; tx0 < tq; tx0 += 16) {
    const std::int64_t n = std::min<std::int64_t>(16, tq - tx0);
    const __mmask16 in = first_lanes(n), lo = first_lanes(2 * n), hi = first_lanes(2 * n - 16);
    const float* src = m + ty * tq + tx0;
    const auto load = [&](int k) { return _mm512_maskz_loadu_ps(in, src + k * xs); };
    // A^T M: two rows s0, s1 of four columns
    __m512 s[2][4];
    for (int c = 0; c < 4; ++c) {
      const __m512 m0 = load(c), m1 = load(4 + c), m2 = load(8 + c), m3 = load(12 + c);
      s[0][c] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
      s[1][c] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
    }
    for (int row = 0; row < 2; ++row) {  // (A^T M) A: [s0 + s1 + s2, s1 - s2 - s3] per tile
      const __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[row][0], s[row][1]), s[row][2]), b);
      const __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[row][1], s[row][2]), s[row][3]), b);
      float* dst = plane + (2 * ty + row) * w + 2 * tx0;
      _mm512_mask_storeu_ps(dst, lo, _mm512_permutex2var_ps(left, first, right));
      _mm512_mask_storeu_ps(dst + 16, hi, _mm512_permutex2var_ps(left, second, right));
    }
  }
}

}  // namespace selfsup::core::cpu::conv2d_internal
#endif
