// ISA-neutral numbers of the kernels' maths, written once: every generic, AVX2, AVX-512 and NEON file
// evaluates the same polynomials with these coefficients (each in its own vector width), so the
// tables agree with their plain twins. Plain literals (usable in any expression and any
// target-attributed function), and one scalar store every kernel set shares.
#ifndef ATTEND_KERNEL_MATH_H
#define ATTEND_KERNEL_MATH_H

/// c ← value + β·c, the epilogue store of the GEMM kernels' scalar column tails (β = 0 stores value and never
/// reads c, which may be uninitialised or NaN). The product is its own statement so the compiler never contracts
/// it with the add into one FMA: every kernel set rounds β·c, then the sum, and gives the portable set's bits.
static inline void attend_store_beta(float *c, float value, float beta) {
    if (beta == 0.0f) {
        *c = value;
    } else {
        const float prior = beta * *c;
        *c = value + prior;
    }
}

/// log2(e): scores and masks go to the log2 domain (attention); e^x = 2^(x·log2 e) (row ops).
#define ATTEND_LOG2E 1.4426950408889634f

// MARK: 2^x for x ≤ 0 (attention's online softmax)
//
// x = n + f with n = round(x) and |f| ≤ ½; 2^f ≈ C6·f⁶ + … + C1·f + C0 (Horner, relative error ~1e-7,
// 2^0 = 1 exactly); 2^n from the exponent bits. x is clamped to [EXP2_MIN, 0] first, so −∞ and NaN
// give exactly 0 (n = −127 builds the float 0). AVX-512 multiplies by 2^n with vscalefps instead and
// clamps at EXP2_MIN_SCALEF, where 2^n underflows to 0 just as well.
#define ATTEND_EXP2_MIN (-127.0f)
#define ATTEND_EXP2_MIN_SCALEF (-160.0f)
#define ATTEND_EXP2_C6 1.535350602e-04f
#define ATTEND_EXP2_C5 1.339888084e-03f
#define ATTEND_EXP2_C4 9.618436918e-03f
#define ATTEND_EXP2_C3 5.550332367e-02f
#define ATTEND_EXP2_C2 2.402264774e-01f
#define ATTEND_EXP2_C1 6.931471825e-01f
#define ATTEND_EXP2_C0 1.0f

// MARK: e^x (row ops: softmax, GELU-tanh)
//
// x clamped to [EXP_MIN, EXP_MAX] (NaN kept); n = round(x·log2 e); r = x − n·LN2_HI − n·LN2_LO
// (Cody–Waite: LN2_HI has few mantissa bits, so n·LN2_HI is exact); Cephes' expf polynomial
// e^r ≈ 1 + r + r²·(C5·r⁵ + … + C0); times 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), so that the result underflows to 0
// and overflows to +∞ as it should. The portable twin rounds with the 1.5·2^23 trick (EXP_ROUND_MAGIC).
#define ATTEND_EXP_MIN (-104.0f)
#define ATTEND_EXP_MAX 89.0f
#define ATTEND_EXP_ROUND_MAGIC 12582912.0f
#define ATTEND_LN2_HI 0.693359375f
#define ATTEND_LN2_LO (-2.12194440e-4f)
#define ATTEND_EXP_C5 1.9875691500e-4f
#define ATTEND_EXP_C4 1.3981999507e-3f
#define ATTEND_EXP_C3 8.3334519073e-3f
#define ATTEND_EXP_C2 4.1665795894e-2f
#define ATTEND_EXP_C1 1.6666665459e-1f
#define ATTEND_EXP_C0 5.0000001201e-1f

// MARK: erf and GELU (row ops)
//
// erf(x) ≈ t·P(t²)/Q(t²) with t = clamp(x, −ERF_CLAMP, ERF_CLAMP), the rational fit of
// `Kernels.fastErf` (|error| < 5e-7): P = P6·u⁶ + … + P0, Q = Q4·u⁴ + … + Q0 with u = t² (Horner).
#define ATTEND_ERF_CLAMP 4.0f
#define ATTEND_ERF_P6 (-2.72614225801306e-10f)
#define ATTEND_ERF_P5 2.77068142495902e-08f
#define ATTEND_ERF_P4 (-2.10102402082508e-06f)
#define ATTEND_ERF_P3 (-5.69250639462346e-05f)
#define ATTEND_ERF_P2 (-7.34990630326855e-04f)
#define ATTEND_ERF_P1 (-2.95459980854025e-03f)
#define ATTEND_ERF_P0 (-1.60960333262415e-02f)
#define ATTEND_ERF_Q4 (-1.45660718464996e-05f)
#define ATTEND_ERF_Q3 (-2.13374055278905e-04f)
#define ATTEND_ERF_Q2 (-1.68282697438203e-03f)
#define ATTEND_ERF_Q1 (-7.37332916720468e-03f)
#define ATTEND_ERF_Q0 (-1.42647390514189e-02f)
/// GELU(v) = v/2 · (1 + erf(v · SQRT1_2)).
#define ATTEND_SQRT1_2 0.70710678118654752f
/// GELU-tanh(v) = v / (1 + e^w), w = v · (GELU_TANH_A + GELU_TANH_B · v²): A = −2√(2/π), B = A · 0.044715.
#define ATTEND_GELU_TANH_A (-1.59576912160573081f)
#define ATTEND_GELU_TANH_B (-0.0713548162726002527f)

#endif
