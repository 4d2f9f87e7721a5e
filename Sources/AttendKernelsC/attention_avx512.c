// Fused-attention micro-kernels for AVX-512F (+FMA), compiled through a target attribute so a plain
// build runs everywhere; chosen at run time. Same maths as attention_generic.c (see attend_attention.h).
#include "attend_attention.h"
#include "kernel_math.h"
#include "attention_softmax.h"
#include "tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <float.h>
#include <math.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

enum { NR = ATTEND_ATTN_NR, MR = ATTEND_ATTN_MR };

#include "simd_poly_avx512.h"   // exp2_poly512

/// 2^x for x ≤ 0: n = round(x), f = x − n ∈ [−½, ½], degree-6 polynomial for 2^f (exp2_poly512; 2^0 = 1
/// exactly), then vscalefps multiplies by 2^n (underflowing to exactly 0; x is clamped at −160, so −∞ → 0).
INLINE __m512 exp2_512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(ATTEND_EXP2_MIN_SCALEF));
    __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp2_poly512(_mm512_sub_ps(x, n)), n);
}

/// exp2_512 for finite x without the clamp: vscalefps underflows any n ≤ −150 to exactly 0 by itself; only
/// −∞ (n = −∞, f = NaN) needs the clamp. 10% faster per vector (a microbenchmark of the exp loop on Zen 5).
INLINE __m512 exp2_512_finite(__m512 x) {
    __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp2_poly512(_mm512_sub_ps(x, n)), n);
}

// MARK: S = c_s · Q Kᵀ, an MR_×(16·NV_) tile per sliver (24 accumulators for 6×64)

INLINE void scores_tile(const int MR_, const int NV_, ptrdiff_t dk, const float *q, ptrdiff_t ldq, const float *b,
                        float *s, ptrdiff_t lds, __m512 cs) {
    __m512 acc[MR][4];
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < NV_; ++c) acc[r][c] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < dk; ++p) {
        const float *bp = b + p * NR;
        __m512 bv[4];
        for (int c = 0; c < NV_; ++c) bv[c] = _mm512_loadu_ps(bp + 16 * c);
        for (int r = 0; r < MR_; ++r) {
            __m512 a = _mm512_set1_ps(q[r * ldq + p]);
            for (int c = 0; c < NV_; ++c) acc[r][c] = _mm512_fmadd_ps(a, bv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR_; ++r)
        for (int c = 0; c < NV_; ++c) _mm512_storeu_ps(s + r * lds + 16 * c, _mm512_mul_ps(acc[r][c], cs));
}

#define SCORES_TILE(R) scores_tile(R, NV, dk, q, ldq, b, st, lds, cs)
#define SCORES_ROWS(NV_) { enum { NV = NV_ }; ATTEND_ATTN_FOR_ROWS(mr, SCORES_TILE) }

TARGET static void scores_avx512(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dk, const float *q, ptrdiff_t ldq,
                                 const float *kt, float *s, ptrdiff_t lds, float c_s) {
    const __m512 cs = _mm512_set1_ps(c_s);
    for (ptrdiff_t t0 = 0; t0 < n; t0 += NR) {
        const float *b = kt + (t0 / NR) * dk * NR;
        float *st = s + t0;
        ptrdiff_t nv = n - t0 >= NR ? 4 : (n - t0 + 15) / 16;
        switch (nv) {
        case 1: SCORES_ROWS(1) break;
        case 2: SCORES_ROWS(2) break;
        case 3: SCORES_ROWS(3) break;
        default: SCORES_ROWS(4) break;
        }
    }
}

// MARK: Online softmax step

/// Masks applied in vectors (written back when any), row maximum.
INLINE float mask_max_avx512(const attend_softmax_step *st, ptrdiff_t r, float *row, ptrdiff_t lim) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY), zero = _mm512_setzero_ps();
    __m512 vmax = ninf;
    if (!st->key_bias && !st->mask) {   // four chains of vmaxps: one would make the row wait on their latency
        __m512 vmax1 = ninf, vmax2 = ninf, vmax3 = ninf;
        ptrdiff_t j = 0;
        for (; j + 64 <= lim; j += 64) {
            vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
            vmax1 = _mm512_max_ps(vmax1, _mm512_loadu_ps(row + j + 16));
            vmax2 = _mm512_max_ps(vmax2, _mm512_loadu_ps(row + j + 32));
            vmax3 = _mm512_max_ps(vmax3, _mm512_loadu_ps(row + j + 48));
        }
        for (; j + 16 <= lim; j += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(row + j));
        if (j < lim) vmax1 = _mm512_max_ps(vmax1, _mm512_mask_loadu_ps(ninf, attend_mask16(lim - j), row + j));
        vmax = _mm512_max_ps(_mm512_max_ps(vmax, vmax1), _mm512_max_ps(vmax2, vmax3));
    } else {
        const __m512 log2e = _mm512_set1_ps(ATTEND_LOG2E);
        const float *mrow = st->mask ? st->mask + r * st->ldm : NULL;
        for (ptrdiff_t j = 0; j < lim; j += 16) {
            __mmask16 k = attend_mask16(lim - j);
            __m512 x = _mm512_mask_loadu_ps(ninf, k, row + j);
            if (st->key_bias) x = _mm512_add_ps(x, _mm512_mask_loadu_ps(ninf, k, st->key_bias + j));
            if (mrow) {
                __m512 mv = _mm512_maskz_loadu_ps(k, mrow + j);
                if (st->mask_boolean) x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(mv, zero, _CMP_EQ_OQ), ninf);
                else x = _mm512_fmadd_ps(mv, log2e, x);
            }
            _mm512_mask_storeu_ps(row + j, k, x);
            vmax = _mm512_max_ps(vmax, x);
        }
    }
    return _mm512_reduce_max_ps(vmax);
}

/// p = exp2(s − m) in place, four vectors of 16 at a time (four sums), and its sum; `finite` (a constant after
/// inlining): no s is −∞, so exp2_512_finite serves.
INLINE float exp_sum_rows_avx512(float *row, ptrdiff_t lim, float m, const int finite) {
#define EXP2(x) (finite ? exp2_512_finite(x) : exp2_512(x))
    const __m512 ninf = _mm512_set1_ps(-INFINITY), vm = _mm512_set1_ps(m);
    __m512 vsum0 = _mm512_setzero_ps(), vsum1 = _mm512_setzero_ps();
    __m512 vsum2 = _mm512_setzero_ps(), vsum3 = _mm512_setzero_ps();
    ptrdiff_t j = 0;
    for (; j + 64 <= lim; j += 64) {
        __m512 e0 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j), vm));
        __m512 e1 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j + 16), vm));
        __m512 e2 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j + 32), vm));
        __m512 e3 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j + 48), vm));
        _mm512_storeu_ps(row + j, e0);
        _mm512_storeu_ps(row + j + 16, e1);
        _mm512_storeu_ps(row + j + 32, e2);
        _mm512_storeu_ps(row + j + 48, e3);
        vsum0 = _mm512_add_ps(vsum0, e0);
        vsum1 = _mm512_add_ps(vsum1, e1);
        vsum2 = _mm512_add_ps(vsum2, e2);
        vsum3 = _mm512_add_ps(vsum3, e3);
    }
    vsum0 = _mm512_add_ps(vsum0, vsum2);
    vsum1 = _mm512_add_ps(vsum1, vsum3);
    for (; j + 32 <= lim; j += 32) {
        __m512 e0 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j), vm));
        __m512 e1 = EXP2(_mm512_sub_ps(_mm512_loadu_ps(row + j + 16), vm));
        _mm512_storeu_ps(row + j, e0);
        _mm512_storeu_ps(row + j + 16, e1);
        vsum0 = _mm512_add_ps(vsum0, e0);
        vsum1 = _mm512_add_ps(vsum1, e1);
    }
    for (; j < lim; j += 16) {
        __mmask16 k = attend_mask16(lim - j);
        const __m512 x = finite ? _mm512_maskz_loadu_ps(k, row + j) : _mm512_mask_loadu_ps(ninf, k, row + j);
        __m512 e = _mm512_maskz_mov_ps(k, EXP2(_mm512_sub_ps(x, vm)));
        _mm512_mask_storeu_ps(row + j, k, e);
        vsum0 = _mm512_add_ps(vsum0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(vsum0, vsum1));
#undef EXP2
}

INLINE float exp_sum_avx512(float *row, ptrdiff_t lim, float m, int finite) {
    return finite ? exp_sum_rows_avx512(row, lim, m, 1) : exp_sum_rows_avx512(row, lim, m, 0);
}

INLINE float exp2_1_avx512(float x) { return _mm512_cvtss_f32(exp2_512(_mm512_set1_ps(x))); }

#define SOFTMAX_NAME softmax_avx512
#define SOFTMAX_ATTR TARGET
#define SOFTMAX_MASK_MAX mask_max_avx512
#define SOFTMAX_EXP_SUM exp_sum_avx512
#define SOFTMAX_EXP2_1 exp2_1_avx512
#include "attention_softmax.h"

// MARK: O = (alpha·acc + P V)·oscale, MR_ rows × NV_ vectors of 16 columns (the last one masked)

INLINE void pv_tile(const int MR_, const int NV_, __mmask16 last, ptrdiff_t n, const float *p, ptrdiff_t ldp,
                    const float *v, ptrdiff_t ldv, const float *alpha, const float *in, ptrdiff_t lda, float *o,
                    ptrdiff_t ldo, const float *oscale) {
    __m512 acc[MR][4];
    for (int r = 0; r < MR_; ++r) {
        __m512 a = _mm512_set1_ps(in ? alpha[r] : 0.0f);
        for (int c = 0; c < NV_; ++c)
            acc[r][c] = in ? _mm512_mul_ps(a, _mm512_maskz_loadu_ps(c == NV_ - 1 ? last : 0xffff, in + r * lda + 16 * c))
                           : _mm512_setzero_ps();
    }
    for (ptrdiff_t j = 0; j < n; ++j) {
        const float *vj = v + j * ldv;
        __m512 b[4];
        for (int c = 0; c < NV_; ++c)
            b[c] = c == NV_ - 1 ? _mm512_maskz_loadu_ps(last, vj + 16 * c) : _mm512_loadu_ps(vj + 16 * c);
        for (int r = 0; r < MR_; ++r) {
            __m512 a = _mm512_set1_ps(p[r * ldp + j]);
            for (int c = 0; c < NV_; ++c) acc[r][c] = _mm512_fmadd_ps(a, b[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR_; ++r) {
        const __m512 sc = _mm512_set1_ps(oscale ? oscale[r] : 1.0f);
        for (int c = 0; c < NV_; ++c) {
            __m512 x = oscale ? _mm512_mul_ps(acc[r][c], sc) : acc[r][c];
            if (c == NV_ - 1) _mm512_mask_storeu_ps(o + r * ldo + 16 * c, last, x);
            else _mm512_storeu_ps(o + r * ldo + 16 * c, x);
        }
    }
}

#define PV_TILE(R) pv_tile(R, NV, last, n, p, ldp, vc, ldv, alpha, ic, lda, oc, ldo, oscale)
#define PV_ROWS(NV_) { enum { NV = NV_ }; ATTEND_ATTN_FOR_ROWS(mr, PV_TILE) }

TARGET static void pv_avx512(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dv, const float *p, ptrdiff_t ldp, const float *v,
                             ptrdiff_t ldv, const float *alpha, const float *acc, ptrdiff_t lda, float *o,
                             ptrdiff_t ldo, const float *oscale) {
    for (ptrdiff_t c0 = 0; c0 < dv; c0 += 64) {
        ptrdiff_t cols = dv - c0 < 64 ? dv - c0 : 64;
        int nv = (int)((cols + 15) / 16);
        __mmask16 last = attend_mask16(cols - 16 * (nv - 1));
        const float *vc = v + c0, *ic = acc ? acc + c0 : NULL;
        float *oc = o + c0;
        switch (nv) {
        case 1: PV_ROWS(1) break;
        case 2: PV_ROWS(2) break;
        case 3: PV_ROWS(3) break;
        default: PV_ROWS(4) break;
        }
    }
}

TARGET static void exp_scale_avx512(float *w, ptrdiff_t n, float m, float c) {
    const __m512 vm = _mm512_set1_ps(m), vc = _mm512_set1_ps(c);
    for (ptrdiff_t j = 0; j < n; j += 16) {
        __mmask16 k = attend_mask16(n - j);
        __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, w + j);
        _mm512_mask_storeu_ps(w + j, k, _mm512_mul_ps(exp2_512(_mm512_sub_ps(x, vm)), vc));
    }
}

// MARK: Kᵀ packing by 16×16 register transposes

/// Transposes the 16×16 block held in r[0…15] (row i in r[i]) in place.
INLINE void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 2; ++h) {
        for (int i = 0; i < 4; ++i) {
            t[8 * h + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0x88);
            t[8 * h + 4 + i] = _mm512_shuffle_f32x4(r[8 * h + i], r[8 * h + 4 + i], 0xdd);
        }
    }
    for (int i = 0; i < 8; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(t[i], t[8 + i], 0xdd);
    }
}

/// Loads rows [0, rows) of a 16×16 block (row i at src + i·ld, its first `cols` floats; the rest 0: a masked-off load
/// never faults) and transposes it: r[j] holds column j across the lanes.
INLINE void load_transposed(const float *src, ptrdiff_t ld, ptrdiff_t rows, ptrdiff_t cols, __m512 r[16]) {
    const __mmask16 cm = attend_mask16(cols);
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; ++i) r[i] = _mm512_maskz_loadu_ps(i < rows ? cm : 0, src + i * ld);
    transpose16(r);
}

TARGET static void pack_kt_avx512(const float *k, ptrdiff_t ldk, ptrdiff_t n, ptrdiff_t dk, float *kt) {
    for (ptrdiff_t c0 = 0; c0 < n; c0 += 16) {   // 16 keys at a time (the rest of the vector zero)
        const ptrdiff_t keys = n - c0 < 16 ? n - c0 : 16;
        float *dst = kt + (c0 / NR) * dk * NR + c0 % NR;
        for (ptrdiff_t p0 = 0; p0 < dk; p0 += 16) {
            const ptrdiff_t feats = dk - p0 < 16 ? dk - p0 : 16;
            __m512 r[16];
            load_transposed(k + c0 * ldk + p0, ldk, keys, feats, r);   // rows past the keys read as 0
#pragma clang loop unroll(full)
            for (int j = 0; j < 16; ++j)
                if (j < feats) _mm512_storeu_ps(dst + (p0 + j) * NR, r[j]);
        }
    }
}

// MARK: A short head whole, query rows across the lanes

/// Sᵀ = c_s · K Qᵀ for NK_ keys (key j ≥ n reads key n − 1 again; the caller masks it): acc[j] holds key j's
/// scores of every query row, summed over p in order as the blocked path's scores tile does (the same bits).
INLINE void short_scores(const int NK_, ptrdiff_t n, ptrdiff_t dk, const float *k, ptrdiff_t ldk, const float *qt,
                         __m512 cs, __m512 s[16]) {
    const float *kr[16];
#pragma clang loop unroll(full)
    for (int j = 0; j < NK_; ++j) kr[j] = k + (j < n ? j : n - 1) * ldk;
    __m512 acc[16];
    for (int j = 0; j < NK_; ++j) acc[j] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < dk; ++p) {
        const __m512 qp = _mm512_load_ps(qt + p * NR);
#pragma clang loop unroll(full)
        for (int j = 0; j < NK_; ++j) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(kr[j][p]), qp, acc[j]);
    }
    for (int j = 0; j < NK_; ++j) s[j] = _mm512_mul_ps(acc[j], cs);
    for (int j = NK_; j < 16; ++j) s[j] = _mm512_set1_ps(-INFINITY);
}

/// One short head (attend_short_head: nq, n ≤ 16) with query row i in lane i, so that the softmax runs down the
/// keys with vertical operations instead of a horizontal reduction per row:
///   Qᵀ                      dk × 16, packed as a Kᵀ sliver (16×16 register transposes) into scratch
///   Sᵀ[j] = c_s · Σ_p K[j, p] · Qᵀ[p]                        (one accumulator per key: n independent chains)
///   Sᵀ[j] += key_bias[j], + general mask column j (a transposed load), −∞ where j > causal_offset + i or j ≥ n
///   m = max_j Sᵀ[j],  Pᵀ[j] = 2^(Sᵀ[j] − m),  l = Σ_j Pᵀ[j]   (a lane with every key masked: m = −∞, P = 0, l = 0)
///   P = transpose(Pᵀ) into scratch;  O = P V · (1/l) by the pv tile (0 when l = 0)
///   weights = P / l;  lse = (m + log2 l) / log2(e)
TARGET static void short_head_avx512(const attend_short_head *h) {
    float *qt = h->scratch, *pbuf = qt + NR * h->dk, *inv = pbuf + 256, *stat = inv + 16;
    const ptrdiff_t nq = h->nq, n = h->n;
    pack_kt_avx512(h->q, h->ldq, nq, h->dk, qt);   // Qᵀ as one sliver: row p of Q's rows at qt + p·NR, 0 past nq
    __m512 s[16];
    const __m512 cs = _mm512_set1_ps(h->c_s);
    switch ((n + 3) / 4) {   // keys rounded up to 4: every accumulator unrolled
    case 1: short_scores(4, n, h->dk, h->k, h->ldk, qt, cs, s); break;
    case 2: short_scores(8, n, h->dk, h->k, h->ldk, qt, cs, s); break;
    case 3: short_scores(12, n, h->dk, h->k, h->ldk, qt, cs, s); break;
    default: short_scores(16, n, h->dk, h->k, h->ldk, qt, cs, s); break;
    }
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mt[16];
    if (h->mask) load_transposed(h->mask, h->ldm, nq, n, mt);
#pragma clang loop unroll(full)
    for (int j = 0; j < 16; ++j) {
        if (j >= n) { s[j] = ninf; continue; }
        if (h->key_bias) s[j] = _mm512_add_ps(s[j], _mm512_set1_ps(h->key_bias[j]));
        if (h->mask) {
            if (h->mask_boolean) s[j] = _mm512_mask_mov_ps(s[j], _mm512_cmp_ps_mask(mt[j], _mm512_setzero_ps(), _CMP_EQ_OQ), ninf);
            else s[j] = _mm512_fmadd_ps(mt[j], _mm512_set1_ps(ATTEND_LOG2E), s[j]);
        }
        if (h->causal) {   // lanes i < j − causal_offset may not see key j
            const ptrdiff_t hidden = j - h->causal_offset;
            if (hidden > 0) s[j] = _mm512_mask_mov_ps(s[j], attend_mask16(hidden), ninf);
        }
    }
    __m512 m8[8], e[16];
#pragma clang loop unroll(full)
    for (int j = 0; j < 8; ++j) m8[j] = _mm512_max_ps(s[j], s[j + 8]);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j) m8[j] = _mm512_max_ps(m8[j], m8[j + 4]);
    const __m512 m = _mm512_max_ps(_mm512_max_ps(m8[0], m8[2]), _mm512_max_ps(m8[1], m8[3]));
    // A lane with every key masked (m = −∞) subtracts a finite number, so that −∞ − m stays −∞ and gives 0.
    const __m512 msub = _mm512_max_ps(m, _mm512_set1_ps(-FLT_MAX));
#pragma clang loop unroll(full)
    for (int j = 0; j < 16; ++j) e[j] = exp2_512(_mm512_sub_ps(s[j], msub));
    __m512 l8[8];
#pragma clang loop unroll(full)
    for (int j = 0; j < 8; ++j) l8[j] = _mm512_add_ps(e[j], e[j + 8]);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; ++j) l8[j] = _mm512_add_ps(l8[j], l8[j + 4]);
    const __m512 l = _mm512_add_ps(_mm512_add_ps(l8[0], l8[2]), _mm512_add_ps(l8[1], l8[3]));
    _mm512_store_ps(inv, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(l, _mm512_setzero_ps(), _CMP_GT_OQ),
                                             _mm512_set1_ps(1.0f), l));
    transpose16(e);   // e[i] = row i of P
    for (ptrdiff_t i = 0; i < nq; ++i) _mm512_store_ps(pbuf + 16 * i, e[i]);
    for (ptrdiff_t r0 = 0; r0 < nq; r0 += MR) {
        const ptrdiff_t mr = nq - r0 < MR ? nq - r0 : MR;
        pv_avx512(mr, n, h->dv, pbuf + 16 * r0, 16, h->v, h->ldv, NULL, NULL, 0, h->o + r0 * h->ldo, h->ldo, inv + r0);
    }
    if (h->weights) {
        const __mmask16 km = attend_mask16(n);
        for (ptrdiff_t i = 0; i < nq; ++i)
            _mm512_mask_storeu_ps(h->weights + i * h->ldw, km, _mm512_mul_ps(e[i], _mm512_set1_ps(inv[i])));
    }
    if (h->lse) {
        _mm512_store_ps(stat, m);
        _mm512_store_ps(stat + 16, l);
        for (ptrdiff_t i = 0; i < nq; ++i)
            h->lse[i] = stat[16 + i] > 0.0f ? (stat[i] + log2f(stat[16 + i])) / ATTEND_LOG2E : -INFINITY;
    }
}

static const attend_attention_ukernel table = {
    ATTEND_ISA_AVX512, scores_avx512, softmax_avx512, pv_avx512, exp_scale_avx512, pack_kt_avx512, short_head_avx512,
};

const attend_attention_ukernel *attend_attention_ukernel_avx512(void) { return &table; }

#else
const attend_attention_ukernel *attend_attention_ukernel_avx512(void) { return 0; }
#endif
