// NEON score kernels for exact search (AArch64): stored float16 rows widened with vcvt_f32_f16, int8
// rows with vmovl_s8 / vmovl_s16 + vcvtq_f32_s32, eight elements a step, multiplied into float32
// accumulators (one q register per pair, two FMAs a step). A tile is Q queries × R rows with Q·R = 8
// (4×2, 2×4 or 1×8): each widened row serves Q queries. Sums are finished with vaddvq_f32, elements
// past the last multiple of 8 are added in order, and an int8 row's sum is multiplied by its scale.
//
// Scalar twin (the specification): scan_generic.c —
//   F16:  s[i·lds + r] = Σ_j half(x[r·ldx + j]) · q[i·ldq + j]
//   I8:   s[i·lds + r] = scale[r] · Σ_j float(x[r·ldx + j]) · q[i·ldq + j]
#include "attend_quant.h"
#include "attend_scan.h"
#if defined(__aarch64__)
#include <arm_neon.h>

/// Eight stored elements at `p` widened to float32: elements 0–3 in *lo, 4–7 in *hi.
static inline __attribute__((always_inline)) void widen8(const int i8, const void *p, float32x4_t *lo, float32x4_t *hi) {
    if (i8) {
        const int16x8_t w = vmovl_s8(vld1_s8((const int8_t *)p));
        *lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(w)));
        *hi = vcvtq_f32_s32(vmovl_s16(vget_high_s16(w)));
    } else {
        const uint16x8_t h = vld1q_u16((const uint16_t *)p);
        *lo = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h)));
        *hi = vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(h)));
    }
}

/// One tile: queries qp[0..<Q] × rows xp[0..<R] (pointers past the edge repeat the last valid one;
/// their sums are dropped); writes s[i·lds + r] for i < nqv, r < nrv.
static inline __attribute__((always_inline)) void
tile(const int i8, const int Q, const int R, ptrdiff_t d, const float *const *qp, const void *const *xp,
     const float *scale, float *s, ptrdiff_t lds, ptrdiff_t nqv, ptrdiff_t nrv) {
    const ptrdiff_t es = i8 ? 1 : 2;
    float32x4_t acc[8];
    for (int t = 0; t < 8; ++t) acc[t] = vdupq_n_f32(0.0f);
    const ptrdiff_t d8 = d & ~(ptrdiff_t)7;
    for (ptrdiff_t p = 0; p < d8; p += 8) {
        float32x4_t q0[4], q1[4];
        for (int i = 0; i < Q; ++i) { q0[i] = vld1q_f32(qp[i] + p); q1[i] = vld1q_f32(qp[i] + p + 4); }
        for (int r = 0; r < R; ++r) {
            float32x4_t lo, hi;
            widen8(i8, (const char *)xp[r] + p * es, &lo, &hi);
            for (int i = 0; i < Q; ++i) {
                acc[i * R + r] = vfmaq_f32(acc[i * R + r], q0[i], lo);
                acc[i * R + r] = vfmaq_f32(acc[i * R + r], q1[i], hi);
            }
        }
    }
    for (ptrdiff_t i = 0; i < nqv; ++i) {
        for (ptrdiff_t r = 0; r < nrv; ++r) {
            float sum = vaddvq_f32(acc[i * R + r]);
            for (ptrdiff_t j = d8; j < d; ++j) {
                const float v = i8 ? (float)((const int8_t *)xp[r])[j] : attend_half_to_float(((const uint16_t *)xp[r])[j]);
                sum += v * qp[i][j];
            }
            s[i * lds + r] = i8 ? scale[r] * sum : sum;
        }
    }
}

/// Every query against every row, in tiles of 4×2, then 2×4, then 1×8 for the queries left
/// (1×4 or 1×2 for the last few rows of one query).
static inline __attribute__((always_inline)) void
scan(const int i8, ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq, const void *x,
     ptrdiff_t ldx, const float *scale, float *s, ptrdiff_t lds) {
    const ptrdiff_t es = i8 ? 1 : 2;
    ptrdiff_t i0 = 0;
    while (i0 < nq) {
        const int Q = nq - i0 >= 4 ? 4 : nq - i0 >= 2 ? 2 : 1;
        const float *qp[4];
        for (int i = 0; i < Q; ++i) qp[i] = q + (i0 + i) * ldq;
        for (ptrdiff_t r0 = 0; r0 < rows;) {
            // One query: 8 rows at a time, fewer for the last few rows (no sums wasted on repeated rows).
            const ptrdiff_t left = rows - r0;
            const int R = Q > 1 ? 8 / Q : left > 4 ? 8 : left > 2 ? 4 : 2;
            const ptrdiff_t nrv = left < R ? left : R;
            const void *xp[8];
            for (int r = 0; r < R; ++r) xp[r] = (const char *)x + (r0 + (r < nrv ? r : nrv - 1)) * ldx * es;
            const float *sc = i8 ? scale + r0 : scale;
            float *so = s + i0 * lds + r0;
            if (Q == 4) tile(i8, 4, 2, d, qp, xp, sc, so, lds, 4, nrv);
            else if (Q == 2) tile(i8, 2, 4, d, qp, xp, sc, so, lds, 2, nrv);
            else if (R == 8) tile(i8, 1, 8, d, qp, xp, sc, so, lds, 1, nrv);
            else if (R == 4) tile(i8, 1, 4, d, qp, xp, sc, so, lds, 1, nrv);
            else tile(i8, 1, 2, d, qp, xp, sc, so, lds, 1, nrv);
            r0 += nrv;
        }
        i0 += Q;
    }
}

static void scan_f16_neon(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq,
                          const uint16_t *x, ptrdiff_t ldx, float *s, ptrdiff_t lds) {
    scan(0, nq, rows, d, q, ldq, x, ldx, 0, s, lds);
}

static void scan_i8_neon(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq,
                         const int8_t *x, ptrdiff_t ldx, const float *scale, float *s, ptrdiff_t lds) {
    scan(1, nq, rows, d, q, ldq, x, ldx, scale, s, lds);
}

static const attend_scan_ukernel ukernel_neon = {ATTEND_ISA_NEON, scan_f16_neon, scan_i8_neon};

const attend_scan_ukernel *attend_scan_ukernel_neon(void) { return &ukernel_neon; }

#else
const attend_scan_ukernel *attend_scan_ukernel_neon(void) { return 0; }
#endif
