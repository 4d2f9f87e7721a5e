// Row kernels in portable C (any CPU): bias + activation, (add +) layer norm, softmax. The maths
// every SIMD table must match (see attend_rowops.h), the path tests force with
// `Kernels.withSettings({ $0.isa = .generic }) { … }`, and the one arm64 runs: the compiler's 4-float vectors become
// SSE2 on x86-64 and NEON on arm64. Row tails go through a 4-float buffer padded with a neutral value.
#include "attend_rowops.h"
#include "kernel_math.h"
#include <stdint.h>
#include <string.h>

typedef float v4 __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4 ld4(const float *p) {
    v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void st4(float *p, v4 v) { memcpy(p, &v, sizeof v); }
static inline v4 splat(float x) { return (v4){x, x, x, x}; }
/// The first `n` (< 4) floats at `p`, the other lanes `fill`.
static inline v4 ld4_part(const float *p, ptrdiff_t n, float fill) {
    float t[4] = {fill, fill, fill, fill};
    memcpy(t, p, (size_t)n * sizeof(float));
    return ld4(t);
}
static inline void st4_part(float *p, ptrdiff_t n, v4 v) {
    float t[4];
    st4(t, v);
    memcpy(p, t, (size_t)n * sizeof(float));
}
/// m ? a : b, lane by lane (m lanes all ones or all zeros).
static inline v4 select4(v4i m, v4 a, v4 b) { return (v4)((m & (v4i)a) | (~m & (v4i)b)); }
/// max(lo, x) and min(hi, x) that keep a NaN x.
static inline v4 max4(v4 lo, v4 x) { return select4(x < lo, lo, x); }
static inline v4 min4(v4 hi, v4 x) { return select4(x > hi, hi, x); }
static inline float hsum4(v4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }
static inline float hmax4(v4 v) {
    float a = v[0] > v[1] ? v[0] : v[1], b = v[2] > v[3] ? v[2] : v[3];
    return a > b ? a : b;
}

// MARK: exp, erf, activations

/// e^x: x clamped to [−104, 89] (NaN kept), n = round(x·log2 e) by the 1.5·2^23 trick, r = x − n·ln2
/// in two parts (Cody–Waite), Cephes' expf polynomial for e^r, times 2^⌊n/2⌋ · 2^(n−⌊n/2⌋) so that
/// the result underflows to 0 and overflows to +∞ as it should.
static inline v4 exp4(v4 x) {
    x = max4(splat(ATTEND_EXP_MIN), x);
    x = min4(splat(ATTEND_EXP_MAX), x);
    const v4 magic = splat(ATTEND_EXP_ROUND_MAGIC);  // 1.5·2^23
    v4 t = x * splat(ATTEND_LOG2E) + magic;
    v4 n = t - magic;
    v4i ni = (v4i)t - (v4i)magic;
    v4 r = x - n * splat(ATTEND_LN2_HI);
    r = r - n * splat(ATTEND_LN2_LO);
    v4 p = splat(ATTEND_EXP_C5);
    p = p * r + splat(ATTEND_EXP_C4);
    p = p * r + splat(ATTEND_EXP_C3);
    p = p * r + splat(ATTEND_EXP_C2);
    p = p * r + splat(ATTEND_EXP_C1);
    p = p * r + splat(ATTEND_EXP_C0);
    v4 y = p * (r * r) + r + splat(1.0f);
    v4i n1 = ni >> 1, n2 = ni - n1;
    v4 s1 = (v4)((n1 + 127) << 23), s2 = (v4)((n2 + 127) << 23);
    return y * s1 * s2;
}

/// erf(x) as `Kernels.fastErf`: t = clamp(x, −4, 4), t·P(t²)/Q(t²).
static inline v4 erf4(v4 a) {
    v4 x = min4(splat(ATTEND_ERF_CLAMP), max4(splat(-ATTEND_ERF_CLAMP), a));
    v4 x2 = x * x;
    v4 p = splat(ATTEND_ERF_P6);
    p = p * x2 + splat(ATTEND_ERF_P5);
    p = p * x2 + splat(ATTEND_ERF_P4);
    p = p * x2 + splat(ATTEND_ERF_P3);
    p = p * x2 + splat(ATTEND_ERF_P2);
    p = p * x2 + splat(ATTEND_ERF_P1);
    p = p * x2 + splat(ATTEND_ERF_P0);
    v4 q = splat(ATTEND_ERF_Q4);
    q = q * x2 + splat(ATTEND_ERF_Q3);
    q = q * x2 + splat(ATTEND_ERF_Q2);
    q = q * x2 + splat(ATTEND_ERF_Q1);
    q = q * x2 + splat(ATTEND_ERF_Q0);
    return x * p / q;
}

static inline v4 act4(v4 v, const int act) {
    switch (act) {
    case ATTEND_ACT_GELU: {
        v4 h = v * splat(0.5f);
        return h + h * erf4(v * splat(ATTEND_SQRT1_2));
    }
    case ATTEND_ACT_GELU_TANH: {
        // v/2 · (1 + tanh(u)) = v / (1 + e^(−2u)), −2u = v · (−2√(2/π) − 2√(2/π)·0.044715·v²)
        v4 w = v * (splat(ATTEND_GELU_TANH_A) + splat(ATTEND_GELU_TANH_B) * (v * v));
        return v / (splat(1.0f) + exp4(w));
    }
    case ATTEND_ACT_RELU:
        return select4(v < splat(0.0f), splat(0.0f), v);
    default:
        return v;
    }
}

// MARK: bias + activation

static inline __attribute__((always_inline)) void bias_act_rows(float *y, ptrdiff_t rows, ptrdiff_t cols,
                                                                ptrdiff_t ldy, const float *bias,
                                                                const int has_bias, const int act) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = y + i * ldy;
        ptrdiff_t j = 0;
        for (; j + 4 <= cols; j += 4) {
            v4 v = ld4(row + j);
            if (has_bias) v += ld4(bias + j);
            st4(row + j, act4(v, act));
        }
        if (j < cols) {
            v4 v = ld4_part(row + j, cols - j, 0.0f);
            if (has_bias) v += ld4_part(bias + j, cols - j, 0.0f);
            st4_part(row + j, cols - j, act4(v, act));
        }
    }
}

static void bias_act_generic(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy,
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

static void add_layernorm_generic(const float *x, const float *r, float *y, ptrdiff_t rows,
                                  ptrdiff_t cols, ptrdiff_t ldx, ptrdiff_t ldr, ptrdiff_t ldy,
                                  const float *gamma, const float *beta, float eps) {
    if (rows <= 0 || cols <= 0) return;
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float *xr = x + i * ldx;
        float *yr = y + i * ldy;
        // Pass 1: v = x + r (kept in y), Σ v.
        v4 s0 = splat(0.0f), s1 = s0;
        float st = 0.0f;
        const float *v = xr;
        ptrdiff_t j = 0;
        if (r) {
            const float *rr = r + i * ldr;
            for (; j + 8 <= cols; j += 8) {
                v4 a = ld4(xr + j) + ld4(rr + j), b = ld4(xr + j + 4) + ld4(rr + j + 4);
                st4(yr + j, a);
                st4(yr + j + 4, b);
                s0 += a;
                s1 += b;
            }
            for (; j < cols; ++j) { float a = xr[j] + rr[j]; yr[j] = a; st += a; }
            v = yr;
        } else {
            for (; j + 8 <= cols; j += 8) { s0 += ld4(xr + j); s1 += ld4(xr + j + 4); }
            for (; j < cols; ++j) st += xr[j];
        }
        const float mean = (hsum4(s0 + s1) + st) / (float)cols;
        // Pass 2: Σ (v − mean)².
        const v4 vm = splat(mean);
        s0 = splat(0.0f), s1 = s0, st = 0.0f;
        for (j = 0; j + 8 <= cols; j += 8) {
            v4 a = ld4(v + j) - vm, b = ld4(v + j + 4) - vm;
            s0 += a * a;
            s1 += b * b;
        }
        for (; j < cols; ++j) { float d = v[j] - mean; st += d * d; }
        const float inv = 1.0f / __builtin_sqrtf((hsum4(s0 + s1) + st) / (float)cols + eps);
        // Pass 3: y = (v − mean) · inv · gamma + beta.
        const v4 vi = splat(inv);
        for (j = 0; j + 4 <= cols; j += 4) {
            v4 o = (ld4(v + j) - vm) * vi;
            if (gamma) o *= ld4(gamma + j);
            if (beta) o += ld4(beta + j);
            st4(yr + j, o);
        }
        for (; j < cols; ++j) {
            float o = (v[j] - mean) * inv;
            if (gamma) o *= gamma[j];
            if (beta) o += beta[j];
            yr[j] = o;
        }
    }
}

// MARK: softmax

static void softmax_rows_generic(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx) {
    if (rows <= 0 || cols <= 0) return;
    const float ninf = -__builtin_inff();
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = x + i * ldx;
        v4 vmax = splat(ninf);
        ptrdiff_t j = 0;
        for (; j + 4 <= cols; j += 4) vmax = max4(vmax, ld4(row + j));
        if (j < cols) vmax = max4(vmax, ld4_part(row + j, cols - j, ninf));
        const float m = hmax4(vmax);
        if (m == ninf) {
            memset(row, 0, (size_t)cols * sizeof(float));
            continue;
        }
        const v4 vm = splat(m);
        v4 s = splat(0.0f);
        for (j = 0; j + 4 <= cols; j += 4) {
            v4 e = exp4(ld4(row + j) - vm);
            st4(row + j, e);
            s += e;
        }
        if (j < cols) {
            v4 e = exp4(ld4_part(row + j, cols - j, ninf) - vm);   // padding: e^−∞ = 0
            st4_part(row + j, cols - j, e);
            s += e;
        }
        const v4 inv = splat(1.0f / hsum4(s));
        for (j = 0; j + 4 <= cols; j += 4) st4(row + j, ld4(row + j) * inv);
        for (; j < cols; ++j) row[j] *= inv[0];
    }
}

static const attend_rowops rowops_generic = {
    ATTEND_ISA_GENERIC, bias_act_generic, add_layernorm_generic, softmax_rows_generic,
};

const attend_rowops *attend_rowops_generic(void) { return &rowops_generic; }
