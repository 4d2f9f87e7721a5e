// Row kernels for AVX-512F (+FMA), compiled through a target attribute so a plain build runs
// everywhere; chosen at run time. Same maths as rowops_generic.c (see attend_rowops.h); row tails
// use masked loads and stores, so no lane past a row's end is read or written.
#include "attend_rowops.h"
#include "kernel_math.h"
#include "tail_masks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

// MARK: exp, erf, activations

INLINE __m512 exp512(__m512 x);

#define SP_EXP(x) exp512(x)
#include "simd_poly_avx512.h"   // exp_poly512, erf512, gelu512, gelu_tanh512

/// e^x: x clamped to [−104, 89] (NaN kept: max/min return their second operand for NaN),
/// n = round(x·log2 e), e^(x − n·ln2) by exp_poly512 (simd_poly.h), and vscalefps for ·2^n (underflow to 0,
/// overflow to +∞).
INLINE __m512 exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(ATTEND_EXP_MIN), x);
    x = _mm512_min_ps(_mm512_set1_ps(ATTEND_EXP_MAX), x);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return _mm512_scalef_ps(exp_poly512(x, n), n);
}

INLINE __m512 act512(__m512 v, const int act) {
    switch (act) {
    case ATTEND_ACT_GELU: return gelu512(v);
    case ATTEND_ACT_GELU_TANH: return gelu_tanh512(v);
    case ATTEND_ACT_RELU: return _mm512_max_ps(_mm512_setzero_ps(), v);   // NaN v → v
    default: return v;
    }
}

// MARK: bias + activation

INLINE void bias_act_rows(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy, const float *bias,
                          const int has_bias, const int act) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = y + i * ldy;
        ptrdiff_t j = 0;
        for (; j + 32 <= cols; j += 32) {
            __m512 v0 = _mm512_loadu_ps(row + j), v1 = _mm512_loadu_ps(row + j + 16);
            if (has_bias) {
                v0 = _mm512_add_ps(v0, _mm512_loadu_ps(bias + j));
                v1 = _mm512_add_ps(v1, _mm512_loadu_ps(bias + j + 16));
            }
            _mm512_storeu_ps(row + j, act512(v0, act));
            _mm512_storeu_ps(row + j + 16, act512(v1, act));
        }
        for (; j < cols; j += 16) {
            const __mmask16 k = attend_mask16(cols - j);
            __m512 v = _mm512_maskz_loadu_ps(k, row + j);
            if (has_bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + j));
            _mm512_mask_storeu_ps(row + j, k, act512(v, act));
        }
    }
}

TARGET static void bias_act_avx512(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy,
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

TARGET static void add_layernorm_avx512(const float *x, const float *r, float *y, ptrdiff_t rows,
                                        ptrdiff_t cols, ptrdiff_t ldx, ptrdiff_t ldr, ptrdiff_t ldy,
                                        const float *gamma, const float *beta, float eps) {
    if (rows <= 0 || cols <= 0) return;
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float *xr = x + i * ldx;
        float *yr = y + i * ldy;
        // Pass 1: v = x + r (kept in y), Σ v. Masked-off lanes load as 0.
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        const float *v = xr;
        ptrdiff_t j = 0;
        if (r) {
            const float *rr = r + i * ldr;
            for (; j + 32 <= cols; j += 32) {
                __m512 a = _mm512_add_ps(_mm512_loadu_ps(xr + j), _mm512_loadu_ps(rr + j));
                __m512 b = _mm512_add_ps(_mm512_loadu_ps(xr + j + 16), _mm512_loadu_ps(rr + j + 16));
                _mm512_storeu_ps(yr + j, a);
                _mm512_storeu_ps(yr + j + 16, b);
                s0 = _mm512_add_ps(s0, a);
                s1 = _mm512_add_ps(s1, b);
            }
            for (; j < cols; j += 16) {
                const __mmask16 k = attend_mask16(cols - j);
                __m512 a = _mm512_add_ps(_mm512_maskz_loadu_ps(k, xr + j), _mm512_maskz_loadu_ps(k, rr + j));
                _mm512_mask_storeu_ps(yr + j, k, a);
                s0 = _mm512_add_ps(s0, a);
            }
            v = yr;
        } else {
            for (; j + 32 <= cols; j += 32) {
                s0 = _mm512_add_ps(s0, _mm512_loadu_ps(xr + j));
                s1 = _mm512_add_ps(s1, _mm512_loadu_ps(xr + j + 16));
            }
            for (; j < cols; j += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(attend_mask16(cols - j), xr + j));
        }
        const float mean = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)cols;
        // Pass 2: Σ (v − mean)²; masked-off lanes contribute 0.
        const __m512 vm = _mm512_set1_ps(mean);
        s0 = _mm512_setzero_ps(), s1 = s0;
        for (j = 0; j + 32 <= cols; j += 32) {
            __m512 a = _mm512_sub_ps(_mm512_loadu_ps(v + j), vm);
            __m512 b = _mm512_sub_ps(_mm512_loadu_ps(v + j + 16), vm);
            s0 = _mm512_fmadd_ps(a, a, s0);
            s1 = _mm512_fmadd_ps(b, b, s1);
        }
        for (; j < cols; j += 16) {
            const __mmask16 k = attend_mask16(cols - j);
            __m512 a = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, v + j), vm);
            s0 = _mm512_fmadd_ps(a, a, s0);
        }
        const float var = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / (float)cols;
        const __m512 vi = _mm512_set1_ps(1.0f / __builtin_sqrtf(var + eps));
        // Pass 3: y = (v − mean) · inv · gamma + beta.
        for (j = 0; j < cols; j += 16) {
            const __mmask16 k = attend_mask16(cols - j);
            __m512 o = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, v + j), vm), vi);
            if (gamma) o = _mm512_mul_ps(o, _mm512_maskz_loadu_ps(k, gamma + j));
            if (beta) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(k, beta + j));
            _mm512_mask_storeu_ps(yr + j, k, o);
        }
    }
}

// MARK: softmax

TARGET static void softmax_rows_avx512(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx) {
    if (rows <= 0 || cols <= 0) return;
    const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = x + i * ldx;
        // Pass 1: the row maximum (masked-off lanes −∞).
        __m512 m0 = ninf, m1 = ninf;
        ptrdiff_t j = 0;
        for (; j + 32 <= cols; j += 32) {
            m0 = _mm512_max_ps(m0, _mm512_loadu_ps(row + j));
            m1 = _mm512_max_ps(m1, _mm512_loadu_ps(row + j + 16));
        }
        for (; j < cols; j += 16) m0 = _mm512_max_ps(m0, _mm512_mask_loadu_ps(ninf, attend_mask16(cols - j), row + j));
        const float m = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
        if (m == -__builtin_inff()) {
            memset(row, 0, (size_t)cols * sizeof(float));
            continue;
        }
        // Pass 2: e = exp(x − m) in place, Σ e (masked-off lanes load −∞: e^−∞ = 0).
        const __m512 vm = _mm512_set1_ps(m);
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        for (j = 0; j + 32 <= cols; j += 32) {
            __m512 e0 = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j), vm));
            __m512 e1 = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + j + 16), vm));
            _mm512_storeu_ps(row + j, e0);
            _mm512_storeu_ps(row + j + 16, e1);
            s0 = _mm512_add_ps(s0, e0);
            s1 = _mm512_add_ps(s1, e1);
        }
        for (; j < cols; j += 16) {
            const __mmask16 k = attend_mask16(cols - j);
            __m512 e = exp512(_mm512_sub_ps(_mm512_mask_loadu_ps(ninf, k, row + j), vm));
            _mm512_mask_storeu_ps(row + j, k, e);
            s0 = _mm512_add_ps(s0, e);
        }
        // Pass 3: scale by 1 / Σ e.
        const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));
        for (j = 0; j < cols; j += 16) {
            const __mmask16 k = attend_mask16(cols - j);
            _mm512_mask_storeu_ps(row + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, row + j), inv));
        }
    }
}

static const attend_rowops rowops_avx512 = {
    ATTEND_ISA_AVX512, bias_act_avx512, add_layernorm_avx512, softmax_rows_avx512,
};

const attend_rowops *attend_rowops_avx512(void) { return &rowops_avx512; }

#else
const attend_rowops *attend_rowops_avx512(void) { return 0; }
#endif
