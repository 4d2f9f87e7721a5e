// Row kernels for AVX2 + FMA, compiled through a target attribute so a plain build runs everywhere;
// chosen at run time. Same maths as rowops_generic.c (see attend_rowops.h); row tails use
// vmaskmovps, so no lane past a row's end is read or written.
#include "attend_rowops.h"
#include "kernel_math.h"
#include "tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

INLINE float hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// MARK: exp, erf, activations

INLINE __m256 exp256(__m256 x);

#define SP_EXP(x) exp256(x)
#include "simd_poly_avx2.h"   // exp_poly256, erf256, gelu256, gelu_tanh256

/// e^x: x clamped to [−104, 89] (NaN kept: max/min return their second operand for NaN),
/// n = round(x·log2 e), e^(x − n·ln2) by exp_poly256 (simd_poly.h), times 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), so that the
/// result underflows to 0 and overflows to +∞.
INLINE __m256 exp256(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(ATTEND_EXP_MIN), x);
    x = _mm256_min_ps(_mm256_set1_ps(ATTEND_EXP_MAX), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 y = exp_poly256(x, n);
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

INLINE __m256 act256(__m256 v, const int act) {
    switch (act) {
    case ATTEND_ACT_GELU: return gelu256(v);
    case ATTEND_ACT_GELU_TANH: return gelu_tanh256(v);
    case ATTEND_ACT_RELU: return _mm256_max_ps(_mm256_setzero_ps(), v);   // NaN v → v
    default: return v;
    }
}

// MARK: bias + activation

INLINE void bias_act_rows(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy, const float *bias,
                          const int has_bias, const int act) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = y + i * ldy;
        ptrdiff_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            __m256 v0 = _mm256_loadu_ps(row + j), v1 = _mm256_loadu_ps(row + j + 8);
            if (has_bias) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(bias + j));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(bias + j + 8));
            }
            _mm256_storeu_ps(row + j, act256(v0, act));
            _mm256_storeu_ps(row + j + 8, act256(v1, act));
        }
        for (; j < cols; j += 8) {
            const __m256i k = attend_mask8(cols - j);
            __m256 v = _mm256_maskload_ps(row + j, k);
            if (has_bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + j, k));
            _mm256_maskstore_ps(row + j, k, act256(v, act));
        }
    }
}

TARGET static void bias_act_avx2(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy,
                                 const float *bias, int act) {
    if (rows <= 0 || cols <= 0) return;
#define ATTEND_CASES(has_bias)                                                                  \
    switch (act) {                                                                              \
    case ATTEND_ACT_GELU: bias_act_rows(y, rows, cols, ldy, bias, has_bias, ATTEND_ACT_GELU); break; \
    case ATTEND_ACT_GELU_TANH: bias_act_rows(y, rows, cols, ldy, bias, has_bias, ATTEND_ACT_GELU_TANH); break; \
    case ATTEND_ACT_RELU: bias_act_rows(y, rows, cols, ldy, bias, has_bias, ATTEND_ACT_RELU); break; \
    default: if (has_bias) bias_act_rows(y, rows, cols, ldy, bias, has_bias, ATTEND_ACT_NONE); break; \
    }
    if (bias) { ATTEND_CASES(1) } else { ATTEND_CASES(0) }
#undef ATTEND_CASES
}

// MARK: (add +) layer norm

TARGET static void add_layernorm_avx2(const float *x, const float *r, float *y, ptrdiff_t rows,
                                      ptrdiff_t cols, ptrdiff_t ldx, ptrdiff_t ldr, ptrdiff_t ldy,
                                      const float *gamma, const float *beta, float eps) {
    if (rows <= 0 || cols <= 0) return;
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float *xr = x + i * ldx;
        float *yr = y + i * ldy;
        // Pass 1: v = x + r (kept in y), Σ v. Masked-off lanes load as 0.
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        const float *v = xr;
        ptrdiff_t j = 0;
        if (r) {
            const float *rr = r + i * ldr;
            for (; j + 16 <= cols; j += 16) {
                __m256 a = _mm256_add_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(rr + j));
                __m256 b = _mm256_add_ps(_mm256_loadu_ps(xr + j + 8), _mm256_loadu_ps(rr + j + 8));
                _mm256_storeu_ps(yr + j, a);
                _mm256_storeu_ps(yr + j + 8, b);
                s0 = _mm256_add_ps(s0, a);
                s1 = _mm256_add_ps(s1, b);
            }
            for (; j < cols; j += 8) {
                const __m256i k = attend_mask8(cols - j);
                __m256 a = _mm256_add_ps(_mm256_maskload_ps(xr + j, k), _mm256_maskload_ps(rr + j, k));
                _mm256_maskstore_ps(yr + j, k, a);
                s0 = _mm256_add_ps(s0, a);
            }
            v = yr;
        } else {
            for (; j + 16 <= cols; j += 16) {
                s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + j));
                s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + j + 8));
            }
            for (; j < cols; j += 8) s0 = _mm256_add_ps(s0, _mm256_maskload_ps(xr + j, attend_mask8(cols - j)));
        }
        const float mean = hsum8(_mm256_add_ps(s0, s1)) / (float)cols;
        // Pass 2: Σ (v − mean)²; masked-off lanes contribute 0.
        const __m256 vm = _mm256_set1_ps(mean);
        s0 = _mm256_setzero_ps(), s1 = s0;
        for (j = 0; j + 16 <= cols; j += 16) {
            __m256 a = _mm256_sub_ps(_mm256_loadu_ps(v + j), vm);
            __m256 b = _mm256_sub_ps(_mm256_loadu_ps(v + j + 8), vm);
            s0 = _mm256_fmadd_ps(a, a, s0);
            s1 = _mm256_fmadd_ps(b, b, s1);
        }
        for (; j < cols; j += 8) {
            const __m256i k = attend_mask8(cols - j);
            __m256 a = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(v + j, k), vm), _mm256_castsi256_ps(k));
            s0 = _mm256_fmadd_ps(a, a, s0);
        }
        const float var = hsum8(_mm256_add_ps(s0, s1)) / (float)cols;
        const __m256 vi = _mm256_set1_ps(1.0f / __builtin_sqrtf(var + eps));
        // Pass 3: y = (v − mean) · inv · gamma + beta.
        for (j = 0; j + 8 <= cols; j += 8) {
            __m256 o = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(v + j), vm), vi);
            if (gamma) o = _mm256_mul_ps(o, _mm256_loadu_ps(gamma + j));
            if (beta) o = _mm256_add_ps(o, _mm256_loadu_ps(beta + j));
            _mm256_storeu_ps(yr + j, o);
        }
        if (j < cols) {
            const __m256i k = attend_mask8(cols - j);
            __m256 o = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(v + j, k), vm), vi);
            if (gamma) o = _mm256_mul_ps(o, _mm256_maskload_ps(gamma + j, k));
            if (beta) o = _mm256_add_ps(o, _mm256_maskload_ps(beta + j, k));
            _mm256_maskstore_ps(yr + j, k, o);
        }
    }
}

// MARK: softmax

TARGET static void softmax_rows_avx2(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx) {
    if (rows <= 0 || cols <= 0) return;
    const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = x + i * ldx;
        // Pass 1: the row maximum (masked-off lanes −∞).
        __m256 m0 = ninf, m1 = ninf;
        ptrdiff_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            m0 = _mm256_max_ps(m0, _mm256_loadu_ps(row + j));
            m1 = _mm256_max_ps(m1, _mm256_loadu_ps(row + j + 8));
        }
        for (; j < cols; j += 8) {
            const __m256i k = attend_mask8(cols - j);
            m0 = _mm256_max_ps(m0, _mm256_blendv_ps(ninf, _mm256_maskload_ps(row + j, k), _mm256_castsi256_ps(k)));
        }
        const float m = hmax8(_mm256_max_ps(m0, m1));
        if (m == -__builtin_inff()) {
            memset(row, 0, (size_t)cols * sizeof(float));
            continue;
        }
        // Pass 2: e = exp(x − m) in place, Σ e (masked-off lanes −∞: e^−∞ = 0).
        const __m256 vm = _mm256_set1_ps(m);
        __m256 s0 = _mm256_setzero_ps(), s1 = s0;
        for (j = 0; j + 16 <= cols; j += 16) {
            __m256 e0 = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
            __m256 e1 = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j + 8), vm));
            _mm256_storeu_ps(row + j, e0);
            _mm256_storeu_ps(row + j + 8, e1);
            s0 = _mm256_add_ps(s0, e0);
            s1 = _mm256_add_ps(s1, e1);
        }
        for (; j < cols; j += 8) {
            const __m256i k = attend_mask8(cols - j);
            __m256 xv = _mm256_blendv_ps(ninf, _mm256_maskload_ps(row + j, k), _mm256_castsi256_ps(k));
            __m256 e = exp256(_mm256_sub_ps(xv, vm));
            _mm256_maskstore_ps(row + j, k, e);
            s0 = _mm256_add_ps(s0, e);
        }
        // Pass 3: scale by 1 / Σ e.
        const __m256 inv = _mm256_set1_ps(1.0f / hsum8(_mm256_add_ps(s0, s1)));
        for (j = 0; j + 8 <= cols; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inv));
        if (j < cols) {
            const __m256i k = attend_mask8(cols - j);
            _mm256_maskstore_ps(row + j, k, _mm256_mul_ps(_mm256_maskload_ps(row + j, k), inv));
        }
    }
}

static const attend_rowops rowops_avx2 = {
    ATTEND_ISA_AVX2, bias_act_avx2, add_layernorm_avx2, softmax_rows_avx2,
};

const attend_rowops *attend_rowops_avx2(void) { return &rowops_avx2; }

#else
const attend_rowops *attend_rowops_avx2(void) { return 0; }
#endif
