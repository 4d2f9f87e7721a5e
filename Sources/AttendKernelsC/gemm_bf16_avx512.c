// AVX-512 BF16 GEMM: a 6×64 micro-kernel on `vdpbf16ps` (24 zmm accumulators, each instruction 32
// bf16 multiply-adds into 16 float lanes) and the per-call A packing with `vcvtne2ps2bf16`.
//
// Scalar twin of the micro-kernel (the specification; see attend_bf16.h for the pair order):
//   for i < mr, j < nr: acc = 0
//     for q < kp: acc = (acc + hi(a[q·6 + i])·hi(w[q·64 + j])) + lo(a[q·6 + i])·lo(w[q·64 + j])
//     c[i·ldc + j] = acc + (beta == 0 ? 0 : beta · c[i·ldc + j])
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "attend_bf16.h"
#include "bf16_avx512_tile.h"

#define TBF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define MR 6
#define NR ATTEND_BF16_NR

/// The tile for a fixed row count (a compile-time constant after inlining, so that every loop
/// over rows unrolls and the accumulators live in registers).
TBF16 static inline __attribute__((always_inline)) void
bf16_tile(const int rows, ptrdiff_t kp, const uint32_t *restrict a, const uint32_t *restrict w,
          float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t nr) {
    __m512 acc[MR][4];
    for (int i = 0; i < rows; ++i) {
        for (int q = 0; q < 4; ++q) acc[i][q] = _mm512_setzero_ps();
        // Fetch the tile of C (for writing) while the loop runs: it is usually not in L1/L2 yet.
        for (int q = 0; q < 4; ++q)
            if (16 * q < nr) __builtin_prefetch(c + i * ldc + 16 * q, 1, 3);
    }
    for (ptrdiff_t p = 0; p < kp; ++p) {
        const __m512bh w0 = (__m512bh)_mm512_loadu_si512(w);
        const __m512bh w1 = (__m512bh)_mm512_loadu_si512(w + 16);
        const __m512bh w2 = (__m512bh)_mm512_loadu_si512(w + 32);
        const __m512bh w3 = (__m512bh)_mm512_loadu_si512(w + 48);
        for (int i = 0; i < rows; ++i) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, w0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, w1);
            acc[i][2] = _mm512_dpbf16_ps(acc[i][2], ai, w2);
            acc[i][3] = _mm512_dpbf16_ps(acc[i][3], ai, w3);
        }
        a += MR;
        w += NR;
    }
    bf16_store_tile(rows, acc, c, ldc, beta, nr);
}

TBF16 static void bf16_kernel_avx512(ptrdiff_t kp, const uint32_t *restrict a, const uint32_t *restrict w,
                                     float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    switch (mr) {
    case 6: bf16_tile(6, kp, a, w, c, ldc, beta, nr); break;
    case 5: bf16_tile(5, kp, a, w, c, ldc, beta, nr); break;
    case 4: bf16_tile(4, kp, a, w, c, ldc, beta, nr); break;
    case 3: bf16_tile(3, kp, a, w, c, ldc, beta, nr); break;
    case 2: bf16_tile(2, kp, a, w, c, ldc, beta, nr); break;
    default: bf16_tile(1, kp, a, w, c, ldc, beta, nr); break;
    }
}

// Index tables that interleave six rows of 16 words (r0..r5) into 96 words q-major (dst[q·6 + r]),
// as in sgemm_avx512.c's A packing. Step 1 zips row pairs: P01 = (r0[q], r1[q]) for q 0..7 ("lo")
// or 8..15 ("hi"). Step 2 builds each output vector v (words e = 16v..16v+15, q = e/6, r = e%6)
// from P01/P23 with one two-source permute, then patches in the P45 words with a masked permute.
static const int zip_lo[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int zip_hi[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
static const int out_idx[3][16] = {
    {0, 1, 16, 17, 0, 1, 2, 3, 18, 19, 2, 3, 4, 5, 20, 21},
    {4, 5, 6, 7, 22, 23, 6, 7, 8, 9, 24, 25, 8, 9, 10, 11},
    {26, 27, 10, 11, 12, 13, 28, 29, 12, 13, 14, 15, 30, 31, 14, 15},
};
static const int out_idx45[3][16] = {
    {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5},
    {4, 5, 6, 7, 6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 10, 11},
    {10, 11, 10, 11, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15},
};
static const unsigned short out_mask45[3] = {0x0C30, 0x30C3, 0xC30C};

/// 32 floats of a row (k elements past `p0` valid, rest read as 0) → 16 pair words, RNE.
TBF16 static inline __attribute__((always_inline)) __m512i round_pairs(const float *row, ptrdiff_t p0, ptrdiff_t k) {
    const ptrdiff_t left = k - p0;
    __m512 lo, hi;
    if (left >= 32) {
        lo = _mm512_loadu_ps(row + p0);
        hi = _mm512_loadu_ps(row + p0 + 16);
    } else {
        lo = _mm512_maskz_loadu_ps(attend_mask16(left), row + p0);
        hi = _mm512_maskz_loadu_ps(attend_mask16(left - 16), row + p0 + 16);
    }
    // Element e of the result is bf16(e < 16 ? lo[e] : hi[e − 16]): word q = (2q, 2q + 1).
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

TBF16 static void bf16_pack_a_avx512(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst) {
    const ptrdiff_t kp = (k + 1) / 2;
    const __m512i zl = _mm512_loadu_si512(zip_lo), zh = _mm512_loadu_si512(zip_hi);
    const __m512i o0 = _mm512_loadu_si512(out_idx[0]), o1 = _mm512_loadu_si512(out_idx[1]),
                  o2 = _mm512_loadu_si512(out_idx[2]);
    const __m512i f0 = _mm512_loadu_si512(out_idx45[0]), f1 = _mm512_loadu_si512(out_idx45[1]),
                  f2 = _mm512_loadu_si512(out_idx45[2]);
    const __mmask16 m0 = out_mask45[0], m1 = out_mask45[1], m2 = out_mask45[2];
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        const ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        const float *r0 = a + i0 * lda;
        for (ptrdiff_t q0 = 0; q0 < kp; q0 += 16) {
            __m512i x[MR];
            for (int r = 0; r < MR; ++r)
                x[r] = r < rows ? round_pairs(r0 + r * lda, 2 * q0, k) : _mm512_setzero_si512();
            uint32_t tmp[16 * MR];
            const int full = q0 + 16 <= kp;
            uint32_t *d = full ? dst + q0 * MR : tmp;
            {
                const __m512i p01 = _mm512_permutex2var_epi32(x[0], zl, x[1]);
                const __m512i p23 = _mm512_permutex2var_epi32(x[2], zl, x[3]);
                const __m512i p45 = _mm512_permutex2var_epi32(x[4], zl, x[5]);
                _mm512_storeu_si512(d + 0, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o0, p23), m0, f0, p45));
                _mm512_storeu_si512(d + 16, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o1, p23), m1, f1, p45));
                _mm512_storeu_si512(d + 32, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o2, p23), m2, f2, p45));
            }
            {
                const __m512i p01 = _mm512_permutex2var_epi32(x[0], zh, x[1]);
                const __m512i p23 = _mm512_permutex2var_epi32(x[2], zh, x[3]);
                const __m512i p45 = _mm512_permutex2var_epi32(x[4], zh, x[5]);
                _mm512_storeu_si512(d + 48, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o0, p23), m0, f0, p45));
                _mm512_storeu_si512(d + 64, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o1, p23), m1, f1, p45));
                _mm512_storeu_si512(d + 80, _mm512_mask_permutexvar_epi32(_mm512_permutex2var_epi32(p01, o2, p23), m2, f2, p45));
            }
            if (!full) memcpy(dst + q0 * MR, tmp, (size_t)((kp - q0) * MR) * sizeof(uint32_t));
        }
        dst += kp * MR;
    }
}

static const attend_bf16_ukernel bf16_ukernel_avx512 = {1, MR, NR, bf16_kernel_avx512, bf16_pack_a_avx512};

const attend_bf16_ukernel *attend_bf16_ukernel_avx512(void) { return &bf16_ukernel_avx512; }

#else
#include "attend_bf16.h"
const attend_bf16_ukernel *attend_bf16_ukernel_avx512(void) { return 0; }
#endif
