// simd_poly.h at NEON width (float32x4_t): defines exp2_poly_q, exp_poly_q, erf_q and gelu_q, and gelu_tanh_q when
// the including file has defined SP_EXP(x) (its e^x, declared before this include).
#include <arm_neon.h>
#define SP_V float32x4_t
#define SP_ATTR static inline __attribute__((always_inline))
#define SP_FN(name) name##_q
#define SP_SET1(x) vdupq_n_f32(x)
#define SP_FMA(a, b, c) vfmaq_f32(c, a, b)
#define SP_FNMA(a, b, c) vfmsq_f32(c, a, b)
#define SP_MUL(a, b) vmulq_f32(a, b)
#define SP_ADD(a, b) vaddq_f32(a, b)
#define SP_DIV(a, b) vdivq_f32(a, b)
#define SP_MIN(a, b) vminq_f32(a, b)
#define SP_MAX(a, b) vmaxq_f32(a, b)
#include "simd_poly.h"
