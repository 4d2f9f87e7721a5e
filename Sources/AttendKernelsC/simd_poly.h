// The polynomial evaluations of the SIMD kernels (exp, 2^x, erf, GELU), written once for every vector width, as
// ggml writes its per-width macro layer. A width is a small header (simd_poly_avx2.h, simd_poly_avx512.h,
// simd_poly_neon.h) that defines the vector operations below and includes this file, which then defines the functions
// under that width's target attribute; each kernel file includes its width's header. The coefficients are those of
// kernel_math.h; the portable files (rowops_generic.c, attention_generic.c) keep their own plain-C twins, which the
// tests compare these with. (Moving the AVX2, AVX-512 and NEON bodies here left every kernel's machine code
// unchanged: `llvm-objdump -d` of the five files at -O3 was identical before and after.)
//
//     #define SP_V __m256                        // the vector type
//     #define SP_ATTR static inline …            // the functions' attributes (always_inline, target)
//     #define SP_FN(name) name##256              // how a function is named at this width
//     #define SP_SET1(x) _mm256_set1_ps(x)       // every lane x
//     #define SP_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)     // a·b + c, rounded once
//     #define SP_FNMA(a, b, c) _mm256_fnmadd_ps(a, b, c)   // c − a·b, rounded once
//     #define SP_MUL(a, b) _mm256_mul_ps(a, b)
//     #define SP_ADD(a, b) _mm256_add_ps(a, b)
//     #define SP_DIV(a, b) _mm256_div_ps(a, b)
//     #define SP_MIN(a, b) _mm256_min_ps(a, b)   // min and max as the ISA defines them for NaN (the callers say
//     #define SP_MAX(a, b) _mm256_max_ps(a, b)   //   which operand a NaN may be in)
//     #include "simd_poly.h"
//
// It defines (each a pure function of its vector arguments):
//   SP_FN(exp2_poly)(f)   2^f for f ∈ [−½, ½]: C6·f⁶ + … + C1·f + C0 (Horner), 2^0 = 1 exactly
//   SP_FN(exp_poly)(x, n) e^x · 2^−n for x clamped to [EXP_MIN, EXP_MAX] and n = round(x·log2 e):
//                         r = x − n·LN2_HI − n·LN2_LO (Cody–Waite, two fused steps), then Cephes' expf
//                         polynomial 1 + r + r²·(C5·r⁵ + … + C0), evaluated as fma(P(r), r², r + 1)
//   SP_FN(erf)(a)         erf(a) as `Kernels.fastErf`: t = min(CLAMP, max(−CLAMP, a)), t·P(t²)/Q(t²)
//   SP_FN(gelu)(v)        h + h·erf(v·√½) with h = v/2, as fma(h, erf(v·√½), h)
// and, when the file also defines SP_EXP(x) (its full e^x: clamp, round, SP_FN(exp_poly), times 2^n):
//   SP_FN(gelu_tanh)(v)   v / (1 + e^(v·w)), w = fma(GELU_TANH_B, v², GELU_TANH_A)   (= v/2 · (1 + tanh(u)))
// The range reduction (rounding) and the scaling by 2^n stay in each file: they are what differs between ISAs
// (vscalefps on AVX-512, exponent bits elsewhere).
#include "kernel_math.h"

#if !defined(SP_V) || !defined(SP_ATTR) || !defined(SP_FN) || !defined(SP_SET1) || !defined(SP_FMA) || \
    !defined(SP_FNMA) || !defined(SP_MUL) || !defined(SP_ADD) || !defined(SP_DIV) || !defined(SP_MIN) ||  \
    !defined(SP_MAX)
#error "define SP_V, SP_ATTR, SP_FN, SP_SET1, SP_FMA, SP_FNMA, SP_MUL, SP_ADD, SP_DIV, SP_MIN and SP_MAX first"
#endif

SP_ATTR SP_V SP_FN(exp2_poly)(SP_V f) {
    SP_V p = SP_SET1(ATTEND_EXP2_C6);
    p = SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C5));
    p = SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C4));
    p = SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C3));
    p = SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C2));
    p = SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C1));
    return SP_FMA(p, f, SP_SET1(ATTEND_EXP2_C0));
}

SP_ATTR SP_V SP_FN(exp_poly)(SP_V x, SP_V n) {
    SP_V r = SP_FNMA(n, SP_SET1(ATTEND_LN2_HI), x);
    r = SP_FNMA(n, SP_SET1(ATTEND_LN2_LO), r);
    SP_V p = SP_SET1(ATTEND_EXP_C5);
    p = SP_FMA(p, r, SP_SET1(ATTEND_EXP_C4));
    p = SP_FMA(p, r, SP_SET1(ATTEND_EXP_C3));
    p = SP_FMA(p, r, SP_SET1(ATTEND_EXP_C2));
    p = SP_FMA(p, r, SP_SET1(ATTEND_EXP_C1));
    p = SP_FMA(p, r, SP_SET1(ATTEND_EXP_C0));
    return SP_FMA(p, SP_MUL(r, r), SP_ADD(r, SP_SET1(1.0f)));
}

SP_ATTR SP_V SP_FN(erf)(SP_V a) {
    SP_V x = SP_MIN(SP_SET1(ATTEND_ERF_CLAMP), SP_MAX(SP_SET1(-ATTEND_ERF_CLAMP), a));
    SP_V x2 = SP_MUL(x, x);
    SP_V p = SP_SET1(ATTEND_ERF_P6);
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P5));
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P4));
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P3));
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P2));
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P1));
    p = SP_FMA(p, x2, SP_SET1(ATTEND_ERF_P0));
    SP_V q = SP_SET1(ATTEND_ERF_Q4);
    q = SP_FMA(q, x2, SP_SET1(ATTEND_ERF_Q3));
    q = SP_FMA(q, x2, SP_SET1(ATTEND_ERF_Q2));
    q = SP_FMA(q, x2, SP_SET1(ATTEND_ERF_Q1));
    q = SP_FMA(q, x2, SP_SET1(ATTEND_ERF_Q0));
    return SP_DIV(SP_MUL(x, p), q);
}

SP_ATTR SP_V SP_FN(gelu)(SP_V v) {
    SP_V h = SP_MUL(v, SP_SET1(0.5f));
    return SP_FMA(h, SP_FN(erf)(SP_MUL(v, SP_SET1(ATTEND_SQRT1_2))), h);
}

#if defined(SP_EXP)
SP_ATTR SP_V SP_FN(gelu_tanh)(SP_V v) {
    // v/2 · (1 + tanh(u)) = v / (1 + e^(−2u)), −2u = v · (−2√(2/π) − 2√(2/π)·0.044715·v²)
    SP_V w = SP_FMA(SP_SET1(ATTEND_GELU_TANH_B), SP_MUL(v, v), SP_SET1(ATTEND_GELU_TANH_A));
    return SP_DIV(v, SP_ADD(SP_SET1(1.0f), SP_EXP(SP_MUL(v, w))));
}
#endif

#undef SP_V
#undef SP_ATTR
#undef SP_FN
#undef SP_SET1
#undef SP_FMA
#undef SP_FNMA
#undef SP_MUL
#undef SP_ADD
#undef SP_DIV
#undef SP_MIN
#undef SP_MAX
#undef SP_EXP
