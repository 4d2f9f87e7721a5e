// simd_poly.h at m512-bit width (AVX-512F): defines exp2_poly512, exp_poly512, erf512 and gelu512, and
// gelu_tanh512 when the including file has defined SP_EXP(x) (its e^x, declared before this include).
#include <immintrin.h>
#define SP_V __m512
#define SP_ATTR static inline __attribute__((always_inline)) __attribute__((target("avx512f,fma")))
#define SP_FN(name) name##512
#define SP_SET1(x) _mm512_set1_ps(x)
#define SP_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SP_FNMA(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define SP_MUL(a, b) _mm512_mul_ps(a, b)
#define SP_ADD(a, b) _mm512_add_ps(a, b)
#define SP_DIV(a, b) _mm512_div_ps(a, b)
#define SP_MIN(a, b) _mm512_min_ps(a, b)
#define SP_MAX(a, b) _mm512_max_ps(a, b)
#include "simd_poly.h"
