// Fused-attention micro-kernels for AVX2 + FMA (16 ymm registers: 6×16 tiles, 12 accumulators),
// compiled through a target attribute and chosen at run time. Same maths as attention_generic.c.
#include "attend_attention.h"
#include "kernel_math.h"
#include "attention_softmax.h"
#include "tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

enum { NR = ATTEND_ATTN_NR, MR = ATTEND_ATTN_MR };

#include "simd_poly_avx2.h"   // exp2_poly256

/// 2^x for x ≤ 0 (as exp2_poly in attention_generic.c): x clamped to [−127, 0], n = round(x),
/// 2^f by the degree-6 polynomial (exp2_poly256), 2^n built in the exponent bits (n = −127 gives exactly 0).
INLINE __m256 exp2_256(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(ATTEND_EXP2_MIN));   // also maps −∞ (and NaN) to −127
    x = _mm256_min_ps(x, _mm256_setzero_ps());
    __m256 n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 p = exp2_poly256(_mm256_sub_ps(x, n));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/// Loads lanes [0, count) of p, the rest −∞.
INLINE __m256 load_or_ninf(const float *p, ptrdiff_t count) {
    if (count >= 8) return _mm256_loadu_ps(p);
    __m256i k = attend_mask8(count);
    return _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
}

INLINE float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// MARK: S = c_s · Q Kᵀ in MR_×16 tiles (12 accumulators for MR_ = 6)

INLINE void scores_tile(const int MR_, ptrdiff_t dk, const float *q, ptrdiff_t ldq, const float *b,
                        float *s, ptrdiff_t lds, __m256 cs) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR_; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (ptrdiff_t p = 0; p < dk; ++p) {
        __m256 b0 = _mm256_loadu_ps(b + p * NR), b1 = _mm256_loadu_ps(b + p * NR + 8);
        for (int r = 0; r < MR_; ++r) {
            __m256 a = _mm256_broadcast_ss(q + r * ldq + p);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < MR_; ++r) {
        _mm256_storeu_ps(s + r * lds, _mm256_mul_ps(acc[r][0], cs));
        _mm256_storeu_ps(s + r * lds + 8, _mm256_mul_ps(acc[r][1], cs));
    }
}

TARGET static void scores_avx2(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dk, const float *q, ptrdiff_t ldq,
                               const float *kt, float *s, ptrdiff_t lds, float c_s) {
    const __m256 cs = _mm256_set1_ps(c_s);
    for (ptrdiff_t c0 = 0; c0 < n; c0 += 16) {
        const float *b = kt + (c0 / NR) * dk * NR + c0 % NR;
        float *st = s + c0;
#define TILE(R) scores_tile(R, dk, q, ldq, b, st, lds, cs)
        ATTEND_ATTN_FOR_ROWS(mr, TILE)
#undef TILE
    }
}

// MARK: Online softmax step

INLINE float mask_max_avx2(const attend_softmax_step *st, ptrdiff_t r, float *row, ptrdiff_t lim) {
    // masked rows: scalar (the general mask is the slow case)
    if (st->key_bias || st->mask) attend_apply_masks_scalar(st, r, row, lim);
    // four chains of vmaxps: one would make the row wait on their latency
    __m256 vmax0 = _mm256_set1_ps(-INFINITY), vmax1 = vmax0, vmax2 = vmax0, vmax3 = vmax0;
    ptrdiff_t j = 0;
    for (; j + 32 <= lim; j += 32) {
        vmax0 = _mm256_max_ps(vmax0, _mm256_loadu_ps(row + j));
        vmax1 = _mm256_max_ps(vmax1, _mm256_loadu_ps(row + j + 8));
        vmax2 = _mm256_max_ps(vmax2, _mm256_loadu_ps(row + j + 16));
        vmax3 = _mm256_max_ps(vmax3, _mm256_loadu_ps(row + j + 24));
    }
    for (; j < lim; j += 8) vmax0 = _mm256_max_ps(vmax0, load_or_ninf(row + j, lim - j));
    return hmax(_mm256_max_ps(_mm256_max_ps(vmax0, vmax1), _mm256_max_ps(vmax2, vmax3)));
}

INLINE float exp_sum_avx2(float *row, ptrdiff_t lim, float m, int finite) {
    (void)finite;   // the exponent bits need x ≥ −127 whatever it is
    const __m256 vm = _mm256_set1_ps(m);
    __m256 vsum = _mm256_setzero_ps(), vsum1 = vsum, vsum2 = vsum, vsum3 = vsum;
    ptrdiff_t j = 0;
    for (; j + 32 <= lim; j += 32) {   // four vectors at a time, four sums
        __m256 e0 = exp2_256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
        __m256 e1 = exp2_256(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), vm));
        __m256 e2 = exp2_256(_mm256_sub_ps(_mm256_loadu_ps(row + j + 16), vm));
        __m256 e3 = exp2_256(_mm256_sub_ps(_mm256_loadu_ps(row + j + 24), vm));
        _mm256_storeu_ps(row + j, e0);
        _mm256_storeu_ps(row + j + 8, e1);
        _mm256_storeu_ps(row + j + 16, e2);
        _mm256_storeu_ps(row + j + 24, e3);
        vsum = _mm256_add_ps(vsum, e0);
        vsum1 = _mm256_add_ps(vsum1, e1);
        vsum2 = _mm256_add_ps(vsum2, e2);
        vsum3 = _mm256_add_ps(vsum3, e3);
    }
    vsum = _mm256_add_ps(_mm256_add_ps(vsum, vsum1), _mm256_add_ps(vsum2, vsum3));
    for (; j + 8 <= lim; j += 8) {
        __m256 e = exp2_256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
        _mm256_storeu_ps(row + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    if (j < lim) {
        __m256i k = attend_mask8(lim - j);
        __m256 e = _mm256_and_ps(exp2_256(_mm256_sub_ps(load_or_ninf(row + j, lim - j), vm)), _mm256_castsi256_ps(k));
        _mm256_maskstore_ps(row + j, k, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    return hsum(vsum);
}

INLINE float exp2_1_avx2(float x) { return _mm256_cvtss_f32(exp2_256(_mm256_set1_ps(x))); }

#define SOFTMAX_NAME softmax_avx2
#define SOFTMAX_ATTR TARGET
#define SOFTMAX_MASK_MAX mask_max_avx2
#define SOFTMAX_EXP_SUM exp_sum_avx2
#define SOFTMAX_EXP2_1 exp2_1_avx2
#include "attention_softmax.h"

// MARK: O = (alpha·acc + P V)·oscale in MR_×16 tiles (the second vector of the last tile masked)

INLINE void pv_tile(const int MR_, ptrdiff_t cols, ptrdiff_t n, const float *p, ptrdiff_t ldp, const float *v,
                    ptrdiff_t ldv, const float *alpha, const float *in, ptrdiff_t lda, float *o, ptrdiff_t ldo,
                    const float *oscale) {
    const __m256i k0 = attend_mask8(cols), k1 = attend_mask8(cols - 8);
    __m256 acc[MR][2];
    for (int r = 0; r < MR_; ++r) {
        if (in) {
            __m256 a = _mm256_set1_ps(alpha[r]);
            acc[r][0] = _mm256_mul_ps(a, cols >= 16 ? _mm256_loadu_ps(in + r * lda) : _mm256_maskload_ps(in + r * lda, k0));
            acc[r][1] = _mm256_mul_ps(a, cols >= 16 ? _mm256_loadu_ps(in + r * lda + 8)
                                                    : _mm256_maskload_ps(in + r * lda + 8, k1));
        } else {
            acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        }
    }
    if (cols >= 16) {
        for (ptrdiff_t j = 0; j < n; ++j) {
            __m256 b0 = _mm256_loadu_ps(v + j * ldv), b1 = _mm256_loadu_ps(v + j * ldv + 8);
            for (int r = 0; r < MR_; ++r) {
                __m256 a = _mm256_broadcast_ss(p + r * ldp + j);
                acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
            }
        }
    } else {
        for (ptrdiff_t j = 0; j < n; ++j) {
            __m256 b0 = _mm256_maskload_ps(v + j * ldv, k0), b1 = _mm256_maskload_ps(v + j * ldv + 8, k1);
            for (int r = 0; r < MR_; ++r) {
                __m256 a = _mm256_broadcast_ss(p + r * ldp + j);
                acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < MR_; ++r) {
        if (oscale) {
            const __m256 sc = _mm256_set1_ps(oscale[r]);
            acc[r][0] = _mm256_mul_ps(acc[r][0], sc);
            acc[r][1] = _mm256_mul_ps(acc[r][1], sc);
        }
        if (cols >= 16) {
            _mm256_storeu_ps(o + r * ldo, acc[r][0]);
            _mm256_storeu_ps(o + r * ldo + 8, acc[r][1]);
        } else {
            _mm256_maskstore_ps(o + r * ldo, k0, acc[r][0]);
            _mm256_maskstore_ps(o + r * ldo + 8, k1, acc[r][1]);
        }
    }
}

TARGET static void pv_avx2(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dv, const float *p, ptrdiff_t ldp, const float *v,
                           ptrdiff_t ldv, const float *alpha, const float *acc, ptrdiff_t lda, float *o, ptrdiff_t ldo,
                           const float *oscale) {
    for (ptrdiff_t c0 = 0; c0 < dv; c0 += 16) {
        const ptrdiff_t cols = dv - c0;
        const float *ic = acc ? acc + c0 : NULL;
#define TILE(R) pv_tile(R, cols, n, p, ldp, v + c0, ldv, alpha, ic, lda, o + c0, ldo, oscale)
        ATTEND_ATTN_FOR_ROWS(mr, TILE)
#undef TILE
    }
}

TARGET static void exp_scale_avx2(float *w, ptrdiff_t n, float m, float c) {
    const __m256 vm = _mm256_set1_ps(m), vc = _mm256_set1_ps(c);
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(w + j, _mm256_mul_ps(exp2_256(_mm256_sub_ps(_mm256_loadu_ps(w + j), vm)), vc));
    if (j < n) {
        __m256i k = attend_mask8(n - j);
        __m256 x = load_or_ninf(w + j, n - j);
        _mm256_maskstore_ps(w + j, k, _mm256_mul_ps(exp2_256(_mm256_sub_ps(x, vm)), vc));
    }
}

static const attend_attention_ukernel table = {
    ATTEND_ISA_AVX2, scores_avx2, softmax_avx2, pv_avx2, exp_scale_avx2, NULL, NULL,
};

const attend_attention_ukernel *attend_attention_ukernel_avx2(void) { return &table; }

#else
const attend_attention_ukernel *attend_attention_ukernel_avx2(void) { return 0; }
#endif
