// The online-softmax step of attention (attend_attention_ukernel.softmax), written once for every ISA.
// Per row r of the block, with m and l the row's running maximum and sum (log2 domain):
//
//     s[j] (+ key bias, + general mask)                 for the keys j < lim the row may see
//     m_new = max(m, max_j s[j]);  p[j] = 2^(s[j] − m_new), 0 for j ≥ lim
//     alpha = 2^(m − m_new);  l = alpha·l + Σ p;  m = m_new         (the driver rescales O by alpha in pv
//                                                                     and divides by l at the end)
//
// and a row that has seen no visible key yet (m_new = −∞) keeps its state (alpha = 1, p = 0).
//
// Each attention_<isa>.c supplies its vector primitives and includes this file (as scan_tiling.h), so
// the step is compiled under that file's target attribute:
//
//     #define SOFTMAX_NAME softmax_avx2          // the function to define
//     #define SOFTMAX_ATTR TARGET                // its target attribute (may be empty)
//     #define SOFTMAX_MASK_MAX mask_max_avx2     // float (const attend_softmax_step *, ptrdiff_t r, float *row, ptrdiff_t lim):
//                                                //   applies the masks to row[0, lim) in place (when any) and returns
//                                                //   the row's maximum (−∞ when lim = 0)
//     #define SOFTMAX_EXP_SUM exp_sum_avx2       // float (float *row, ptrdiff_t lim, float m, int finite): row[j] =
//                                                //   2^(row[j] − m) for j < lim, returns their sum; finite: no row[j]
//                                                //   is −∞ (no masks), so 2^x need not clamp x first
//     #define SOFTMAX_EXP2_1 exp2_1_avx2         // float (float x): 2^x for one x ≤ 0 (−∞ → 0)
//     #include "attention_softmax.h"
//
// Included once without SOFTMAX_NAME (at the top of the file), it only declares the shared helpers:
// `attend_apply_masks_scalar`, the masks' plain loop, for ISAs without a vector version.
#include "attend_attention.h"
#include "kernel_math.h"
#include <math.h>
#include <string.h>

#ifndef ATTEND_ATTENTION_SOFTMAX_H
#define ATTEND_ATTENTION_SOFTMAX_H
/// row[j] += key bias, general mask (boolean 0 → −∞, additive × log2 e) for j < lim, in plain C.
static inline __attribute__((always_inline)) void attend_apply_masks_scalar(const attend_softmax_step *st,
                                                                            ptrdiff_t r, float *row, ptrdiff_t lim) {
    const float *mrow = st->mask ? st->mask + r * st->ldm : NULL;
    for (ptrdiff_t j = 0; j < lim; ++j) {
        float x = row[j];
        if (st->key_bias) x += st->key_bias[j];
        if (mrow) {
            if (st->mask_boolean) { if (mrow[j] == 0.0f) x = -INFINITY; }
            else x += mrow[j] * ATTEND_LOG2E;
        }
        row[j] = x;
    }
}
#endif

#if defined(SOFTMAX_NAME)
#if !defined(SOFTMAX_ATTR) || !defined(SOFTMAX_MASK_MAX) || !defined(SOFTMAX_EXP_SUM) || !defined(SOFTMAX_EXP2_1)
#error "define SOFTMAX_ATTR, SOFTMAX_MASK_MAX, SOFTMAX_EXP_SUM and SOFTMAX_EXP2_1 with SOFTMAX_NAME"
#endif

SOFTMAX_ATTR static void SOFTMAX_NAME(const attend_softmax_step *st) {
    const ptrdiff_t n = st->n, mr = st->mr < ATTEND_ATTN_MR ? st->mr : ATTEND_ATTN_MR;
    // Every row's maximum first, then every row's exponentials: a row's exponentials wait on its maximum's
    // horizontal reduction, and this way other rows' work fills that wait (+1–2% at N = 1,024–4,096).
    float mxs[ATTEND_ATTN_MR];
    ptrdiff_t lims[ATTEND_ATTN_MR];
    for (ptrdiff_t r = 0; r < mr; ++r) {
        float *row = st->s + r * st->lds;
        ptrdiff_t lim = st->limit ? st->limit[r] : n;
        if (lim > n) lim = n;
        if (lim < 0) lim = 0;
        lims[r] = lim;
        mxs[r] = SOFTMAX_MASK_MAX(st, r, row, lim);
        if (st->raw) {
            float *raw = st->raw + r * st->ldraw;
            memcpy(raw, row, (size_t)lim * sizeof(float));
            for (ptrdiff_t j = lim; j < n; ++j) raw[j] = -INFINITY;
        }
    }
    for (ptrdiff_t r = 0; r < mr; ++r) {
        float *row = st->s + r * st->lds;
        const ptrdiff_t lim = lims[r];
        const float mx = mxs[r];
        const float mold = st->m[r];
        const float mnew = mx > mold ? mx : mold;
        if (mnew == -INFINITY) {   // nothing visible yet: p = 0, state unchanged
            st->alpha[r] = 1.0f;
            memset(row, 0, (size_t)n * sizeof(float));
            continue;
        }
        const float sum = SOFTMAX_EXP_SUM(row, lim, mnew, !st->key_bias && !st->mask);
        for (ptrdiff_t j = lim; j < n; ++j) row[j] = 0.0f;
        // A row's first visible block (mold = −∞, every block of a row when N fits one): alpha = 2^−∞ = 0 without
        // the exp, whose latency the row's next step would wait on.
        const float alpha = mold == -INFINITY ? 0.0f : SOFTMAX_EXP2_1(mold - mnew);
        st->alpha[r] = alpha;
        st->l[r] = st->l[r] * alpha + sum;
        st->m[r] = mnew;
    }
}

#undef SOFTMAX_NAME
#undef SOFTMAX_ATTR
#undef SOFTMAX_MASK_MAX
#undef SOFTMAX_EXP_SUM
#undef SOFTMAX_EXP2_1
#endif
