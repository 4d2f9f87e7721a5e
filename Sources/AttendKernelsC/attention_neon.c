// Fused-attention micro-kernels for AArch64 Advanced SIMD (32 × 128-bit registers: 6×16 tiles,
// 24 accumulators). Same maths as attention_generic.c (see attend_attention.h).
#include "attend_attention.h"
#include "kernel_math.h"
#include "attention_softmax.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

enum { NR = ATTEND_ATTN_NR, MR = ATTEND_ATTN_MR };

#include "simd_poly_neon.h"   // exp2_poly_q

/// 2^x for x ≤ 0, as exp2_poly in attention_generic.c: x clamped to [−127, 0], n = round(x),
/// 2^f (|f| ≤ ½) by the degree-6 polynomial (exp2_poly_q), 2^n built in the exponent bits (n = −127 gives 0).
INLINE float32x4_t exp2_q(float32x4_t x) {
    x = vmaxq_f32(x, vdupq_n_f32(ATTEND_EXP2_MIN));   // vmaxq keeps NaN: mask it to −127 as well
    x = vbslq_f32(vceqq_f32(x, x), x, vdupq_n_f32(ATTEND_EXP2_MIN));
    x = vminq_f32(x, vdupq_n_f32(0.0f));
    float32x4_t n = vrndnq_f32(x);
    float32x4_t p = exp2_poly_q(vsubq_f32(x, n));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

INLINE float exp2_s(float x) { return vgetq_lane_f32(exp2_q(vdupq_n_f32(x)), 0); }

// MARK: S = c_s · Q Kᵀ in MR_×16 tiles

INLINE void scores_tile(const int MR_, ptrdiff_t dk, const float *q, ptrdiff_t ldq, const float *b,
                        float *s, ptrdiff_t lds, float cs) {
    float32x4_t acc[MR][4];
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < 4; ++c) acc[r][c] = vdupq_n_f32(0.0f);
    for (ptrdiff_t p = 0; p < dk; ++p) {
        const float *bp = b + p * NR;
        float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8), b3 = vld1q_f32(bp + 12);
        for (int r = 0; r < MR_; ++r) {
            float32x4_t a = vld1q_dup_f32(q + r * ldq + p);
            acc[r][0] = vfmaq_f32(acc[r][0], a, b0);
            acc[r][1] = vfmaq_f32(acc[r][1], a, b1);
            acc[r][2] = vfmaq_f32(acc[r][2], a, b2);
            acc[r][3] = vfmaq_f32(acc[r][3], a, b3);
        }
    }
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < 4; ++c) vst1q_f32(s + r * lds + 4 * c, vmulq_n_f32(acc[r][c], cs));
}

static void scores_neon(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dk, const float *q, ptrdiff_t ldq,
                        const float *kt, float *s, ptrdiff_t lds, float cs) {
    for (ptrdiff_t c0 = 0; c0 < n; c0 += 16) {
        const float *b = kt + (c0 / NR) * dk * NR + c0 % NR;
        float *st = s + c0;
#define TILE(R) scores_tile(R, dk, q, ldq, b, st, lds, cs)
        ATTEND_ATTN_FOR_ROWS(mr, TILE)
#undef TILE
    }
}

// MARK: Online softmax step

INLINE float mask_max_neon(const attend_softmax_step *st, ptrdiff_t r, float *row, ptrdiff_t lim) {
    if (st->key_bias || st->mask) attend_apply_masks_scalar(st, r, row, lim);
    // four chains of fmax, as on x86, where one chain made the row wait on their latency (not timed on Arm)
    float32x4_t vmax = vdupq_n_f32(-INFINITY), vmax1 = vmax, vmax2 = vmax, vmax3 = vmax;
    ptrdiff_t j = 0;
    for (; j + 16 <= lim; j += 16) {
        vmax = vmaxq_f32(vmax, vld1q_f32(row + j));
        vmax1 = vmaxq_f32(vmax1, vld1q_f32(row + j + 4));
        vmax2 = vmaxq_f32(vmax2, vld1q_f32(row + j + 8));
        vmax3 = vmaxq_f32(vmax3, vld1q_f32(row + j + 12));
    }
    vmax = vmaxq_f32(vmaxq_f32(vmax, vmax1), vmaxq_f32(vmax2, vmax3));
    for (; j + 4 <= lim; j += 4) vmax = vmaxq_f32(vmax, vld1q_f32(row + j));
    float mx = vmaxvq_f32(vmax);
    for (; j < lim; ++j) if (row[j] > mx) mx = row[j];
    return mx;
}

INLINE float exp_sum_neon(float *row, ptrdiff_t lim, float m, int finite) {
    (void)finite;   // the exponent bits need x ≥ −127 whatever it is
    const float32x4_t vm = vdupq_n_f32(m);
    float32x4_t vsum = vdupq_n_f32(0.0f), vsum1 = vsum, vsum2 = vsum, vsum3 = vsum;
    ptrdiff_t j = 0;
    for (; j + 16 <= lim; j += 16) {   // four vectors at a time, four sums
        float32x4_t e0 = exp2_q(vsubq_f32(vld1q_f32(row + j), vm));
        float32x4_t e1 = exp2_q(vsubq_f32(vld1q_f32(row + j + 4), vm));
        float32x4_t e2 = exp2_q(vsubq_f32(vld1q_f32(row + j + 8), vm));
        float32x4_t e3 = exp2_q(vsubq_f32(vld1q_f32(row + j + 12), vm));
        vst1q_f32(row + j, e0);
        vst1q_f32(row + j + 4, e1);
        vst1q_f32(row + j + 8, e2);
        vst1q_f32(row + j + 12, e3);
        vsum = vaddq_f32(vsum, e0);
        vsum1 = vaddq_f32(vsum1, e1);
        vsum2 = vaddq_f32(vsum2, e2);
        vsum3 = vaddq_f32(vsum3, e3);
    }
    vsum = vaddq_f32(vaddq_f32(vsum, vsum1), vaddq_f32(vsum2, vsum3));
    for (; j + 4 <= lim; j += 4) {
        float32x4_t e = exp2_q(vsubq_f32(vld1q_f32(row + j), vm));
        vst1q_f32(row + j, e);
        vsum = vaddq_f32(vsum, e);
    }
    float sum = vaddvq_f32(vsum);
    for (; j < lim; ++j) { float e = exp2_s(row[j] - m); row[j] = e; sum += e; }
    return sum;
}

#define SOFTMAX_NAME softmax_neon
#define SOFTMAX_ATTR
#define SOFTMAX_MASK_MAX mask_max_neon
#define SOFTMAX_EXP_SUM exp_sum_neon
#define SOFTMAX_EXP2_1 exp2_s
#include "attention_softmax.h"

// MARK: O = (alpha·acc + P V)·oscale in MR_×16 tiles (a column tail of fewer than 16 in plain C)

INLINE void pv_tile(const int MR_, ptrdiff_t n, const float *p, ptrdiff_t ldp, const float *v, ptrdiff_t ldv,
                    const float *alpha, const float *in, ptrdiff_t lda, float *o, ptrdiff_t ldo, const float *oscale) {
    float32x4_t acc[MR][4];
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < 4; ++c)
            acc[r][c] = in ? vmulq_n_f32(vld1q_f32(in + r * lda + 4 * c), alpha[r]) : vdupq_n_f32(0.0f);
    for (ptrdiff_t j = 0; j < n; ++j) {
        const float *vj = v + j * ldv;
        float32x4_t b0 = vld1q_f32(vj), b1 = vld1q_f32(vj + 4), b2 = vld1q_f32(vj + 8), b3 = vld1q_f32(vj + 12);
        for (int r = 0; r < MR_; ++r) {
            float32x4_t a = vld1q_dup_f32(p + r * ldp + j);
            acc[r][0] = vfmaq_f32(acc[r][0], a, b0);
            acc[r][1] = vfmaq_f32(acc[r][1], a, b1);
            acc[r][2] = vfmaq_f32(acc[r][2], a, b2);
            acc[r][3] = vfmaq_f32(acc[r][3], a, b3);
        }
    }
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < 4; ++c)
            vst1q_f32(o + r * ldo + 4 * c, oscale ? vmulq_n_f32(acc[r][c], oscale[r]) : acc[r][c]);
}

static void pv_neon(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dv, const float *p, ptrdiff_t ldp, const float *v,
                    ptrdiff_t ldv, const float *alpha, const float *acc, ptrdiff_t lda, float *o, ptrdiff_t ldo,
                    const float *oscale) {
    ptrdiff_t c0 = 0;
    for (; c0 + 16 <= dv; c0 += 16) {
        const float *ic = acc ? acc + c0 : NULL;
#define TILE(R) pv_tile(R, n, p, ldp, v + c0, ldv, alpha, ic, lda, o + c0, ldo, oscale)
        ATTEND_ATTN_FOR_ROWS(mr, TILE)
#undef TILE
    }
    if (c0 == dv) return;
    for (ptrdiff_t r = 0; r < mr; ++r) {
        float *orow = o + r * ldo;
        const float *prow = p + r * ldp;
        if (acc)
            for (ptrdiff_t c = c0; c < dv; ++c) orow[c] = acc[r * lda + c] * alpha[r];
        else
            for (ptrdiff_t c = c0; c < dv; ++c) orow[c] = 0.0f;
        for (ptrdiff_t j = 0; j < n; ++j) {
            const float *vrow = v + j * ldv;
            for (ptrdiff_t c = c0; c < dv; ++c) orow[c] += prow[j] * vrow[c];
        }
        if (oscale)
            for (ptrdiff_t c = c0; c < dv; ++c) orow[c] *= oscale[r];
    }
}

static void exp_scale_neon(float *w, ptrdiff_t n, float m, float c) {
    const float32x4_t vm = vdupq_n_f32(m);
    ptrdiff_t j = 0;
    for (; j + 4 <= n; j += 4) vst1q_f32(w + j, vmulq_n_f32(exp2_q(vsubq_f32(vld1q_f32(w + j), vm)), c));
    for (; j < n; ++j) w[j] = exp2_s(w[j] - m) * c;
}

static const attend_attention_ukernel table = {
    ATTEND_ISA_NEON, scores_neon, softmax_neon, pv_neon, exp_scale_neon, NULL, NULL,
};

const attend_attention_ukernel *attend_attention_ukernel_neon(void) { return &table; }

#else
const attend_attention_ukernel *attend_attention_ukernel_neon(void) { return 0; }
#endif
