// AVX-512 score kernels for exact search: stored float16 rows widened with vcvtph2ps (16 per zmm),
// int8 rows with vpmovsxbd + vcvtdq2ps, each multiplied into float32 accumulators with FMAs. A tile
// is Q queries × R rows with Q·R = 16 (4×4, 2×8 or 1×16): each widened row vector serves Q queries,
// and the 16 accumulators are independent FMA chains. The 16 sums are finished by one shuffle tree
// (the SGEMM dot kernel's fold), elements past the last multiple of 16 are added in order, and an
// int8 row's sum is multiplied by its scale.
//
// Scalar twin (the specification): scan_generic.c —
//   F16:  s[i·lds + r] = Σ_j half(x[r·ldx + j]) · q[i·ldq + j]
//   I8:   s[i·lds + r] = scale[r] · Σ_j float(x[r·ldx + j]) · q[i·ldq + j]
#if defined(__x86_64__)
#include <immintrin.h>
#include "attend_quant.h"
#include "attend_scan.h"

#define T512 __attribute__((target("avx512f,fma")))

/// Sums of x0..x3 per 128-bit lane group: lane group L holds 4 partial sums of x_L.
T512 static inline __attribute__((always_inline)) __m512 fold4(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
    const __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(x0, x1, 0x44), _mm512_shuffle_f32x4(x0, x1, 0xEE));
    const __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(x2, x3, 0x44), _mm512_shuffle_f32x4(x2, x3, 0xEE));
    return _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
}

/// out[t] = the sum of acc[t]'s 16 lanes, for t < 16.
T512 static inline __attribute__((always_inline)) void reduce16(const __m512 acc[16], float out[16]) {
    const __m512 u0 = fold4(acc[0], acc[4], acc[8], acc[12]), u1 = fold4(acc[1], acc[5], acc[9], acc[13]);
    const __m512 u2 = fold4(acc[2], acc[6], acc[10], acc[14]), u3 = fold4(acc[3], acc[7], acc[11], acc[15]);
    const __m512 v01 = _mm512_add_ps(_mm512_unpacklo_ps(u0, u1), _mm512_unpackhi_ps(u0, u1));
    const __m512 v23 = _mm512_add_ps(_mm512_unpacklo_ps(u2, u3), _mm512_unpackhi_ps(u2, u3));
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_shuffle_ps(v01, v23, 0x44), _mm512_shuffle_ps(v01, v23, 0xEE)));
}

/// Sixteen stored elements at `p` widened to float32 (`i8`: int8, else float16).
T512 static inline __attribute__((always_inline)) __m512 widen16(const int i8, const void *p) {
    if (i8) return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

/// One tile: queries qp[0..<Q] × rows xp[0..<R] (pointers past the edge repeat the last valid one;
/// their sums are dropped); writes s[i·lds + r] for i < nqv, r < nrv.
T512 static inline __attribute__((always_inline)) void
tile(const int i8, const int Q, const int R, ptrdiff_t d, const float *const *qp, const void *const *xp,
     const float *scale, float *s, ptrdiff_t lds, ptrdiff_t nqv, ptrdiff_t nrv) {
    const ptrdiff_t es = i8 ? 1 : 2;
    __m512 acc[16];
    for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
    const ptrdiff_t d16 = d & ~(ptrdiff_t)15;
    for (ptrdiff_t p = 0; p < d16; p += 16) {
        __m512 qv[4];
        for (int i = 0; i < Q; ++i) qv[i] = _mm512_loadu_ps(qp[i] + p);
        for (int r = 0; r < R; ++r) {
            const __m512 x = widen16(i8, (const char *)xp[r] + p * es);
            for (int i = 0; i < Q; ++i) acc[i * R + r] = _mm512_fmadd_ps(qv[i], x, acc[i * R + r]);
        }
    }
    float out[16];
    reduce16(acc, out);
    for (ptrdiff_t i = 0; i < nqv; ++i) {
        for (ptrdiff_t r = 0; r < nrv; ++r) {
            float sum = out[i * R + r];
            for (ptrdiff_t j = d16; j < d; ++j) {
                const float v = i8 ? (float)((const int8_t *)xp[r])[j] : attend_half_to_float(((const uint16_t *)xp[r])[j]);
                sum += v * qp[i][j];
            }
            s[i * lds + r] = i8 ? scale[r] * sum : sum;
        }
    }
}

#define SCAN_ATTR T512
#define SCAN_W 16
#define SCAN_ISA ATTEND_ISA_AVX512
#define SCAN_SUFFIX avx512
#include "scan_tiling.h"

#else
#include "attend_scan.h"
const attend_scan_ukernel *attend_scan_ukernel_avx512(void) { return 0; }
#endif
