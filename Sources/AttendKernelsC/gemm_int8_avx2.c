// AVX2 int8 GEMM: a 4×8 micro-kernel swept over the 64-column sliver, on llama.cpp's signed-pair trick:
//   vpsignb(w, a) = w · sign(a);  vpmaddubsw(|a|, w · sign(a)) = pairs of a·w summed in int16 (no saturation:
//   |a|, |w| ≤ 127, so a pair is at most 2 · 127² = 32,258);  vpmaddwd(·, 1) = the quad's int32 sum.
// Four int32 block sums and four float accumulators (4 rows × 8 columns).
//
// Scalar twin of the micro-kernel (the specification; see attend_int8.h; packed A holds signed aq):
//   sum(i, j, b) = Σ_{q∈b} Σ_e aq[i][4q+e] · wq[j][4q+e]
//   acc = fma((float)sum, t_{i,b}, acc) over the blocks;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "attend_int8.h"

#define TAVX2 __attribute__((target("avx2,fma")))
#define MR 4
#define NR ATTEND_INT8_NR
#define KB ATTEND_INT8_KB
#define QB (KB / 4)  // quads per block

void attend_int8_pack_a_portable(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                 float *scales, int mr, int offset);

/// The quad's int32 sums a·w for 8 columns: `aa` = |a| (unsigned bytes), `a` the signed bytes, `w` 8 column words.
TAVX2 static inline __attribute__((always_inline)) __m256i quad_dot(__m256i aa, __m256i a, __m256i w, __m256i ones) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(w, a)), ones);
}

TAVX2 static inline __attribute__((always_inline)) void
int8_tile(const int rows, ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
          const uint32_t *restrict w, const float *restrict w_scales, float *restrict c, ptrdiff_t ldc, float beta,
          ptrdiff_t nr) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += 8) {
        __m256 acc[MR];
        for (int i = 0; i < rows; ++i) acc[i] = _mm256_setzero_ps();
        for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
            __m256i sum[MR];
            for (int i = 0; i < rows; ++i) sum[i] = _mm256_setzero_si256();
            const ptrdiff_t q1 = q0 + QB < kq ? q0 + QB : kq;
            for (ptrdiff_t q = q0; q < q1; ++q) {
                const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + q * NR + j0));
                for (int i = 0; i < rows; ++i) {
                    const __m256i ai = _mm256_set1_epi32((int)a[q * MR + i]);
                    sum[i] = _mm256_add_epi32(sum[i], quad_dot(_mm256_abs_epi8(ai), ai, wv, ones));
                }
            }
            for (int i = 0; i < rows; ++i)
                acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i]), _mm256_set1_ps(a_scales[b * MR + i]), acc[i]);
        }
        const ptrdiff_t cols = nr - j0 < 8 ? nr - j0 : 8;
        const __m256 ws = _mm256_loadu_ps(w_scales + j0);
        for (int i = 0; i < rows; ++i) {
            float value[8];
            _mm256_storeu_ps(value, _mm256_mul_ps(acc[i], ws));
            float *out = c + i * ldc + j0;
            for (ptrdiff_t j = 0; j < cols; ++j) {
                if (beta == 0.0f) {
                    out[j] = value[j];
                } else {
                    const float prior = beta * out[j];
                    out[j] = value[j] + prior;
                }
            }
        }
    }
}

TAVX2 static void int8_kernel_avx2(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                   const uint32_t *restrict w, const float *restrict w_scales,
                                   const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                                   ptrdiff_t mr, ptrdiff_t nr) {
    (void)w_offsets;  // signed activations: no offset to take back
    switch (mr) {
    case 4: int8_tile(4, kq, a, a_scales, w, w_scales, c, ldc, beta, nr); break;
    case 3: int8_tile(3, kq, a, a_scales, w, w_scales, c, ldc, beta, nr); break;
    case 2: int8_tile(2, kq, a, a_scales, w, w_scales, c, ldc, beta, nr); break;
    default: int8_tile(1, kq, a, a_scales, w, w_scales, c, ldc, beta, nr); break;
    }
}

static void int8_pack_a_avx2(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst, float *scales) {
    attend_int8_pack_a_portable(a, lda, mc, k, dst, scales, MR, 0);
}

static const attend_int8_ukernel int8_ukernel_avx2 = {MR, NR, int8_kernel_avx2, int8_pack_a_avx2, 0};

const attend_int8_ukernel *attend_int8_ukernel_avx2(void) { return &int8_ukernel_avx2; }

#else
#include "attend_int8.h"
const attend_int8_ukernel *attend_int8_ukernel_avx2(void) { return 0; }
#endif
