// AVX2+FMA BF16 GEMM for x86 CPUs without AVX-512: a 5×64 micro-kernel run as four 5×16 register
// tiles (10 ymm accumulators). Each packed-W word is widened to float32 in registers (even element:
// `<< 16`, odd element: `& 0xFFFF0000`) and accumulated with ordinary FMAs, odd element of the pair
// first, then even — the order `vdpbf16ps` adds in (see attend_bf16.h). A bf16·bf16 product is exact
// in float32, so the results are the same bits as the AVX-512 BF16 and portable kernels.
//
// A is packed per call as float32 already rounded to bf16 (the widened layout of attend_bf16.h:
// per pair, MR odd elements then MR even ones), so the kernel broadcasts it straight from memory.
//
// Scalar twin of the micro-kernel (the specification):
//   for i < mr, j < nr: acc = 0
//     for q < kp: acc = fma(a[q·10 + i], hi(w[q·64 + j]), acc); acc = fma(a[q·10 + 5 + i], lo(w[q·64 + j]), acc)
//     c[i·ldc + j] = acc + (beta == 0 ? 0 : beta · c[i·ldc + j])
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "attend_bf16.h"
#include "kernel_math.h"

#define T256 __attribute__((target("avx2,fma")))
#define MR 5
#define NR ATTEND_BF16_NR
#define NC 16  // columns per register tile

/// Columns [j0, j0 + 16) of the tile for a fixed row count (a compile-time constant after inlining).
T256 static inline __attribute__((always_inline)) void
bf16w_tile16(const int rows, ptrdiff_t kp, const float *restrict a, const uint32_t *restrict w,
             float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t cols) {
    __m256 acc[MR][2];
    for (int i = 0; i < rows; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const __m256i hi_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    for (ptrdiff_t p = 0; p < kp; ++p) {
        const __m256i x0 = _mm256_loadu_si256((const __m256i *)w);
        const __m256i x1 = _mm256_loadu_si256((const __m256i *)(w + 8));
        const __m256 wh0 = _mm256_castsi256_ps(_mm256_and_si256(x0, hi_mask));
        const __m256 wh1 = _mm256_castsi256_ps(_mm256_and_si256(x1, hi_mask));
        const __m256 wl0 = _mm256_castsi256_ps(_mm256_slli_epi32(x0, 16));
        const __m256 wl1 = _mm256_castsi256_ps(_mm256_slli_epi32(x1, 16));
        for (int i = 0; i < rows; ++i) {
            const __m256 ah = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ah, wh0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ah, wh1, acc[i][1]);
            const __m256 al = _mm256_broadcast_ss(a + MR + i);
            acc[i][0] = _mm256_fmadd_ps(al, wl0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(al, wl1, acc[i][1]);
        }
        a += 2 * MR;
        w += NR;
    }
    const __m256 vb = _mm256_set1_ps(beta);
    if (cols == NC) {
        for (int i = 0; i < rows; ++i) {
            float *dst = c + i * ldc;
            for (int q = 0; q < 2; ++q) {
                __m256 v = acc[i][q];
                if (beta != 0.0f) v = _mm256_add_ps(v, _mm256_mul_ps(vb, _mm256_loadu_ps(dst + 8 * q)));
                _mm256_storeu_ps(dst + 8 * q, v);
            }
        }
        return;
    }
    // Edge tile: columns past `cols` are neither read nor written.
    for (int i = 0; i < rows; ++i) {
        float out[NC];
        _mm256_storeu_ps(out, acc[i][0]);
        _mm256_storeu_ps(out + 8, acc[i][1]);
        float *dst = c + i * ldc;
        for (ptrdiff_t j = 0; j < cols; ++j) attend_store_beta(dst + j, out[j], beta);
    }
}

T256 static inline __attribute__((always_inline)) void
bf16w_tile(const int rows, ptrdiff_t kp, const float *restrict a, const uint32_t *restrict w,
           float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t nr) {
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += NC)
        bf16w_tile16(rows, kp, a, w + j0, c + j0, ldc, beta, nr - j0 < NC ? nr - j0 : NC);
}

T256 static void bf16w_kernel_avx2(ptrdiff_t kp, const uint32_t *restrict a, const uint32_t *restrict w,
                                   float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    const float *af = (const float *)(const void *)a;
    switch (mr) {
    case 5: bf16w_tile(5, kp, af, w, c, ldc, beta, nr); break;
    case 4: bf16w_tile(4, kp, af, w, c, ldc, beta, nr); break;
    case 3: bf16w_tile(3, kp, af, w, c, ldc, beta, nr); break;
    case 2: bf16w_tile(2, kp, af, w, c, ldc, beta, nr); break;
    default: bf16w_tile(1, kp, af, w, c, ldc, beta, nr); break;
    }
}

/// float32 bits → the bf16-rounded value's float32 bits (attend_bf16_round, then widened):
/// RNE; NaN quietened keeping sign and top payload; ±0 and subnormals → ±0; overflow → ±Inf.
T256 static inline __attribute__((always_inline)) __m256i round_bf16_bits(__m256i u) {
    const __m256i top = _mm256_set1_epi32((int)0xFFFF0000u);
    const __m256i expo = _mm256_set1_epi32(0x7F800000);
    const __m256i absu = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i nan = _mm256_cmpgt_epi32(absu, expo);
    const __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, expo), _mm256_setzero_si256());
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), odd);
    r = _mm256_and_si256(r, top);
    r = _mm256_blendv_epi8(r, _mm256_or_si256(_mm256_and_si256(u, top), _mm256_set1_epi32(0x00400000)), nan);
    r = _mm256_blendv_epi8(r, _mm256_and_si256(u, _mm256_set1_epi32((int)0x80000000u)), tiny);
    return r;
}

T256 static void bf16w_pack_a_avx2(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst) {
    const ptrdiff_t kp = (k + 1) / 2;
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        const ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        for (ptrdiff_t q0 = 0; q0 < kp; q0 += 8) {
            // Rows × 16 elements (8 pairs), rounded, as float32 bits.
            uint32_t t[MR][16];
            const ptrdiff_t p0 = 2 * q0, left = k - p0;
            for (int r = 0; r < MR; ++r) {
                __m256i x0 = _mm256_setzero_si256(), x1 = x0;
                if (r < rows) {
                    const float *row = a + (i0 + r) * lda + p0;
                    if (left >= 16) {
                        x0 = _mm256_loadu_si256((const __m256i *)row);
                        x1 = _mm256_loadu_si256((const __m256i *)(row + 8));
                    } else {
                        uint32_t part[16] = {0};
                        memcpy(part, row, (size_t)left * sizeof(float));
                        x0 = _mm256_loadu_si256((const __m256i *)part);
                        x1 = _mm256_loadu_si256((const __m256i *)(part + 8));
                    }
                    x0 = round_bf16_bits(x0);
                    x1 = round_bf16_bits(x1);
                }
                _mm256_storeu_si256((__m256i *)t[r], x0);
                _mm256_storeu_si256((__m256i *)(t[r] + 8), x1);
            }
            const ptrdiff_t qn = kp - q0 < 8 ? kp - q0 : 8;
            uint32_t *d = dst + q0 * 2 * MR;
            for (ptrdiff_t q = 0; q < qn; ++q) {
                for (int r = 0; r < MR; ++r) {
                    d[r] = t[r][2 * q + 1];
                    d[MR + r] = t[r][2 * q];
                }
                d += 2 * MR;
            }
        }
        dst += kp * 2 * MR;
    }
}

static const attend_bf16_ukernel bf16w_ukernel_avx2 = {0, MR, NR, bf16w_kernel_avx2, bf16w_pack_a_avx2, 1};

const attend_bf16_ukernel *attend_bf16_ukernel_avx2(void) { return &bf16w_ukernel_avx2; }

#else
#include "attend_bf16.h"
const attend_bf16_ukernel *attend_bf16_ukernel_avx2(void) { return 0; }
#endif
