// AVX-512F BF16 GEMM for CPUs without AVX512_BF16 (Skylake-X, Ice Lake, …): a 5×64 micro-kernel
// that widens each packed-W word to float32 in registers (even element: `<< 16`, odd element:
// `& 0xFFFF0000`) and accumulates with ordinary FMAs, odd element of the pair first, then even —
// the order `vdpbf16ps` adds in (see attend_bf16.h). A bf16·bf16 product is exact in float32, so
// each FMA rounds exactly where the native instruction does: the results are the same bits as the
// AVX-512 BF16 and portable kernels.
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
#include "attend_bf16.h"
#include "bf16_avx512_tile.h"

#define T512F __attribute__((target("avx512f,fma")))
#define MR 5
#define NR ATTEND_BF16_NR

/// The tile for a fixed row count (a compile-time constant after inlining).
T512F static inline __attribute__((always_inline)) void
bf16w_tile(const int rows, ptrdiff_t kp, const float *restrict a, const uint32_t *restrict w,
           float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t nr) {
    __m512 acc[MR][4];
    for (int i = 0; i < rows; ++i) {
        for (int q = 0; q < 4; ++q) acc[i][q] = _mm512_setzero_ps();
        for (int q = 0; q < 4; ++q)
            if (16 * q < nr) __builtin_prefetch(c + i * ldc + 16 * q, 1, 3);
    }
    const __m512i hi_mask = _mm512_set1_epi32((int)0xFFFF0000u);
    for (ptrdiff_t p = 0; p < kp; ++p) {
        __m512 wh[4], wl[4];
        for (int q = 0; q < 4; ++q) {
            const __m512i x = _mm512_loadu_si512(w + 16 * q);
            wh[q] = _mm512_castsi512_ps(_mm512_and_si512(x, hi_mask));
            wl[q] = _mm512_castsi512_ps(_mm512_slli_epi32(x, 16));
        }
        for (int i = 0; i < rows; ++i) {
            const __m512 ah = _mm512_set1_ps(a[i]);
            for (int q = 0; q < 4; ++q) acc[i][q] = _mm512_fmadd_ps(ah, wh[q], acc[i][q]);
            const __m512 al = _mm512_set1_ps(a[MR + i]);
            for (int q = 0; q < 4; ++q) acc[i][q] = _mm512_fmadd_ps(al, wl[q], acc[i][q]);
        }
        a += 2 * MR;
        w += NR;
    }
    bf16_store_tile(rows, acc, c, ldc, beta, nr);
}

T512F static void bf16w_kernel_avx512f(ptrdiff_t kp, const uint32_t *restrict a, const uint32_t *restrict w,
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
T512F static inline __attribute__((always_inline)) __m512i round_bf16_bits(__m512i u) {
    const __m512i top = _mm512_set1_epi32((int)0xFFFF0000u);
    const __m512i absu = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(absu, _mm512_set1_epi32(0x7F800000));
    const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7F800000));
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), odd);
    r = _mm512_and_si512(r, top);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_and_si512(u, top), _mm512_set1_epi32(0x00400000)));
    r = _mm512_mask_mov_epi32(r, tiny, _mm512_and_si512(u, _mm512_set1_epi32((int)0x80000000u)));
    return r;
}

static const int even_idx[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
static const int odd_idx[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};

T512F static void bf16w_pack_a_avx512f(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst) {
    const ptrdiff_t kp = (k + 1) / 2;
    const __m512i ev = _mm512_loadu_si512(even_idx), od = _mm512_loadu_si512(odd_idx);
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        const ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        for (ptrdiff_t q0 = 0; q0 < kp; q0 += 16) {
            // Rows × 16 pairs: odd and even elements, rounded, as float32 bits.
            uint32_t hi[MR][16], lo[MR][16];
            const ptrdiff_t p0 = 2 * q0, left = k - p0;
            for (int r = 0; r < MR; ++r) {
                __m512i x0 = _mm512_setzero_si512(), x1 = x0;
                if (r < rows) {
                    const float *row = a + (i0 + r) * lda + p0;
                    if (left >= 32) {
                        x0 = _mm512_loadu_si512(row);
                        x1 = _mm512_loadu_si512(row + 16);
                    } else {
                        x0 = _mm512_castps_si512(_mm512_maskz_loadu_ps(attend_mask16(left), row));
                        x1 = _mm512_castps_si512(_mm512_maskz_loadu_ps(attend_mask16(left - 16), row + 16));
                    }
                    x0 = round_bf16_bits(x0);
                    x1 = round_bf16_bits(x1);
                }
                _mm512_storeu_si512(lo[r], _mm512_permutex2var_epi32(x0, ev, x1));
                _mm512_storeu_si512(hi[r], _mm512_permutex2var_epi32(x0, od, x1));
            }
            const ptrdiff_t qn = kp - q0 < 16 ? kp - q0 : 16;
            uint32_t *d = dst + q0 * 2 * MR;
            for (ptrdiff_t q = 0; q < qn; ++q) {
                for (int r = 0; r < MR; ++r) {
                    d[r] = hi[r][q];
                    d[MR + r] = lo[r][q];
                }
                d += 2 * MR;
            }
        }
        dst += kp * 2 * MR;
    }
}

static const attend_bf16_ukernel bf16w_ukernel_avx512f = {0, MR, NR, bf16w_kernel_avx512f, bf16w_pack_a_avx512f, 1};

const attend_bf16_ukernel *attend_bf16_ukernel_avx512f(void) { return &bf16w_ukernel_avx512f; }

#else
#include "attend_bf16.h"
const attend_bf16_ukernel *attend_bf16_ukernel_avx512f(void) { return 0; }
#endif
