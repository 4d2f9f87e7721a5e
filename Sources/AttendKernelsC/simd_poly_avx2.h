// simd_poly.h at m256-bit width (AVX2 + FMA): defines exp2_poly256, exp_poly256, erf256 and gelu256, and
// gelu_tanh256 when the including file has defined SP_EXP(x) (its e^x, declared before this include).
#include <immintrin.h>
#define SP_V __m256
#define SP_ATTR static inline __attribute__((always_inline)) __attribute__((target("avx2,fma")))
#define SP_FN(name) name##256
#define SP_SET1(x) _mm256_set1_ps(x)
#define SP_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SP_FNMA(a, b, c) _mm256_fnmadd_ps(a, b, c)
#define SP_MUL(a, b) _mm256_mul_ps(a, b)
#define SP_ADD(a, b) _mm256_add_ps(a, b)
#define SP_DIV(a, b) _mm256_div_ps(a, b)
#define SP_MIN(a, b) _mm256_min_ps(a, b)
#define SP_MAX(a, b) _mm256_max_ps(a, b)
#include "simd_poly.h"
