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

#define SCAN_ATTR
#define SCAN_W 8
#define SCAN_ISA ATTEND_ISA_NEON
#define SCAN_SUFFIX neon
#include "scan_tiling.h"

#else
const attend_scan_ukernel *attend_scan_ukernel_neon(void) { return 0; }
#endif
