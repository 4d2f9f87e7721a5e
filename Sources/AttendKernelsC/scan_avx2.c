// AVX2 + FMA + F16C score kernels for exact search: stored float16 rows widened with vcvtph2ps (8 per
// ymm), int8 rows with vpmovsxbd + vcvtdq2ps, each multiplied into float32 accumulators with FMAs. A
// tile is Q queries × R rows with Q·R = 8 (4×2, 2×4 or 1×8): each widened row vector serves Q queries,
// and the 8 accumulators are independent FMA chains. The 8 sums are finished by a horizontal-add tree,
// elements past the last multiple of 8 are added in order, and an int8 row's sum is multiplied by its
// scale.
//
// Scalar twin (the specification): scan_generic.c —
//   F16:  s[i·lds + r] = Σ_j half(x[r·ldx + j]) · q[i·ldq + j]
//   I8:   s[i·lds + r] = scale[r] · Σ_j float(x[r·ldx + j]) · q[i·ldq + j]
#if defined(__x86_64__)
#include <immintrin.h>
#include "attend_quant.h"
#include "attend_scan.h"

#define T256 __attribute__((target("avx2,fma,f16c")))

/// out[t] = the sum of acc[t]'s 8 lanes, for t < 8.
T256 static inline __attribute__((always_inline)) void reduce8(const __m256 acc[8], float out[8]) {
    const __m256 s01 = _mm256_hadd_ps(acc[0], acc[1]), s23 = _mm256_hadd_ps(acc[2], acc[3]);
    const __m256 s45 = _mm256_hadd_ps(acc[4], acc[5]), s67 = _mm256_hadd_ps(acc[6], acc[7]);
    // Per 128-bit half: [Σacc0, Σacc1, Σacc2, Σacc3] of that half's lanes (and 4…7 likewise).
    const __m256 s0123 = _mm256_hadd_ps(s01, s23), s4567 = _mm256_hadd_ps(s45, s67);
    const __m256 lo = _mm256_permute2f128_ps(s0123, s4567, 0x20), hi = _mm256_permute2f128_ps(s0123, s4567, 0x31);
    _mm256_storeu_ps(out, _mm256_add_ps(lo, hi));
}

/// Eight stored elements at `p` widened to float32 (`i8`: int8, else float16).
T256 static inline __attribute__((always_inline)) __m256 widen8(const int i8, const void *p) {
    if (i8) return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/// One tile: queries qp[0..<Q] × rows xp[0..<R] (pointers past the edge repeat the last valid one;
/// their sums are dropped); writes s[i·lds + r] for i < nqv, r < nrv.
T256 static inline __attribute__((always_inline)) void
tile(const int i8, const int Q, const int R, ptrdiff_t d, const float *const *qp, const void *const *xp,
     const float *scale, float *s, ptrdiff_t lds, ptrdiff_t nqv, ptrdiff_t nrv) {
    const ptrdiff_t es = i8 ? 1 : 2;
    __m256 acc[8];
    for (int t = 0; t < 8; ++t) acc[t] = _mm256_setzero_ps();
    const ptrdiff_t d8 = d & ~(ptrdiff_t)7;
    for (ptrdiff_t p = 0; p < d8; p += 8) {
        __m256 qv[4];
        for (int i = 0; i < Q; ++i) qv[i] = _mm256_loadu_ps(qp[i] + p);
        for (int r = 0; r < R; ++r) {
            const __m256 x = widen8(i8, (const char *)xp[r] + p * es);
            for (int i = 0; i < Q; ++i) acc[i * R + r] = _mm256_fmadd_ps(qv[i], x, acc[i * R + r]);
        }
    }
    float out[8];
    reduce8(acc, out);
    for (ptrdiff_t i = 0; i < nqv; ++i) {
        for (ptrdiff_t r = 0; r < nrv; ++r) {
            float sum = out[i * R + r];
            for (ptrdiff_t j = d8; j < d; ++j) {
                const float v = i8 ? (float)((const int8_t *)xp[r])[j] : attend_half_to_float(((const uint16_t *)xp[r])[j]);
                sum += v * qp[i][j];
            }
            s[i * lds + r] = i8 ? scale[r] * sum : sum;
        }
    }
}

#define SCAN_ATTR T256
#define SCAN_W 8
#define SCAN_ISA ATTEND_ISA_AVX2
#define SCAN_SUFFIX avx2
#include "scan_tiling.h"

#else
#include "attend_scan.h"
const attend_scan_ukernel *attend_scan_ukernel_avx2(void) { return 0; }
#endif
