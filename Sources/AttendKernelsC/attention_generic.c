// Fused-attention micro-kernels in plain C (any CPU): the baseline every SIMD table must match,
// and the path tests force with `Kernels.withSettings({ $0.isa = .generic })` (or ATTEND_ISA=generic). See attend_attention.h.
#include "attend_attention.h"
#include "kernel_math.h"
#include "attention_softmax.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

enum { NR = ATTEND_ATTN_NR, MR = ATTEND_ATTN_MR };

/// 2^x for x ≤ 0 (the argument is always a score minus its row maximum): x = n + f with n an integer
/// and |f| ≤ 1/2, 2^f by a degree-6 polynomial (relative error ~1e-7, 2^0 = 1 exactly), 2^n by
/// building the float's exponent. x < −126.5 (including −∞ and NaN) gives exactly 0.
static inline float exp2_poly(float x) {
    if (!(x >= ATTEND_EXP2_MIN)) x = ATTEND_EXP2_MIN;
    if (x > 0.0f) x = 0.0f;
    float n = floorf(x + 0.5f);
    float f = x - n;
    float p = ATTEND_EXP2_C6;
    p = p * f + ATTEND_EXP2_C5;
    p = p * f + ATTEND_EXP2_C4;
    p = p * f + ATTEND_EXP2_C3;
    p = p * f + ATTEND_EXP2_C2;
    p = p * f + ATTEND_EXP2_C1;
    p = p * f + ATTEND_EXP2_C0;
    union { uint32_t u; float f; } scale = { (uint32_t)((int32_t)n + 127) << 23 };   // n = −127 → 0.0
    return p * scale.f;
}

static void scores_generic(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dk, const float *q, ptrdiff_t ldq,
                           const float *kt, float *s, ptrdiff_t lds, float c_s) {
    for (ptrdiff_t t0 = 0; t0 < n; t0 += NR) {
        const ptrdiff_t cols = n - t0 < NR ? (n - t0 + 15) / 16 * 16 : NR;
        float acc[MR][NR];
        memset(acc, 0, sizeof acc);
        const float *b = kt + (t0 / NR) * dk * NR;
        for (ptrdiff_t p = 0; p < dk; ++p) {
            const float *bp = b + p * NR;
            for (ptrdiff_t r = 0; r < mr; ++r) {
                float a = q[r * ldq + p];
                for (ptrdiff_t c = 0; c < cols; ++c) acc[r][c] += a * bp[c];
            }
        }
        for (ptrdiff_t r = 0; r < mr; ++r)
            for (ptrdiff_t c = 0; c < cols; ++c) s[r * lds + t0 + c] = acc[r][c] * c_s;
    }
}

static inline float mask_max_generic(const attend_softmax_step *st, ptrdiff_t r, float *row, ptrdiff_t lim) {
    if (st->key_bias || st->mask) attend_apply_masks_scalar(st, r, row, lim);
    float mx = -INFINITY;
    for (ptrdiff_t j = 0; j < lim; ++j)
        if (row[j] > mx) mx = row[j];
    return mx;
}

static inline float exp_sum_generic(float *row, ptrdiff_t lim, float m, int finite) {
    (void)finite;
    float sum = 0.0f;
    for (ptrdiff_t j = 0; j < lim; ++j) {
        float e = exp2_poly(row[j] - m);
        row[j] = e;
        sum += e;
    }
    return sum;
}

#define SOFTMAX_NAME softmax_generic
#define SOFTMAX_ATTR
#define SOFTMAX_MASK_MAX mask_max_generic
#define SOFTMAX_EXP_SUM exp_sum_generic
#define SOFTMAX_EXP2_1 exp2f
#include "attention_softmax.h"

static void pv_generic(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dv, const float *p, ptrdiff_t ldp, const float *v,
                       ptrdiff_t ldv, const float *alpha, const float *acc, ptrdiff_t lda, float *o, ptrdiff_t ldo,
                       const float *oscale) {
    for (ptrdiff_t r = 0; r < mr; ++r) {
        float *orow = o + r * ldo;
        const float *prow = p + r * ldp;
        if (acc) {
            const float a = alpha[r], *arow = acc + r * lda;
            for (ptrdiff_t c = 0; c < dv; ++c) orow[c] = a * arow[c];
        } else {
            for (ptrdiff_t c = 0; c < dv; ++c) orow[c] = 0.0f;
        }
        for (ptrdiff_t j = 0; j < n; ++j) {
            float pj = prow[j];
            const float *vrow = v + j * ldv;
            for (ptrdiff_t c = 0; c < dv; ++c) orow[c] += pj * vrow[c];
        }
        if (oscale)
            for (ptrdiff_t c = 0; c < dv; ++c) orow[c] *= oscale[r];
    }
}

static void exp_scale_generic(float *w, ptrdiff_t n, float m, float c) {
    for (ptrdiff_t j = 0; j < n; ++j) w[j] = exp2_poly(w[j] - m) * c;
}

static const attend_attention_ukernel table = {
    ATTEND_ISA_GENERIC, scores_generic, softmax_generic, pv_generic, exp_scale_generic, NULL, NULL,
};

const attend_attention_ukernel *attend_attention_ukernel_generic(void) { return &table; }
