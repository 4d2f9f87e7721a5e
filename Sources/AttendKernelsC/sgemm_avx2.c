// AVX2+FMA SGEMM: a 6×16 micro-kernel (12 ymm accumulators), packing by the plain C loops
// compiled for AVX2, and a dot-product kernel for A·Bᵀ with few rows of A.
//
// Scalar twin of the micro-kernel (the specification):
//   for i in 0..<6, j in 0..<16: acc[i][j] = Σ_p a[p·6 + i] · b[p·ldb + j]
//   c[i·ldc + j] = alpha · acc[i][j] + (beta == 0 ? 0 : beta · c[i·ldc + j])   (i < mr, j < nr)
#if defined(__x86_64__)
#include <immintrin.h>
#include "sgemm_common.h"
#include "tail_masks.h"

#define T256 __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16

/// The tile's body: row r of A at a_r[p·ps] (packed: a_r = a + r, ps = MR; in place: a_r = row r, ps = 1).
static inline __attribute__((always_inline)) T256 void kernel_body(
    ptrdiff_t kc, const float *a0, const float *a1, const float *a2, const float *a3, const float *a4,
    const float *a5, ptrdiff_t ps, const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc,
    float alpha, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define ATTEND_ROW(i)                                   \
    ai = _mm256_broadcast_ss(a##i + p * ps);            \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);         \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const __m256 b1 = _mm256_loadu_ps(b + 8);
        __m256 ai;
        ATTEND_ROW(0) ATTEND_ROW(1) ATTEND_ROW(2) ATTEND_ROW(3) ATTEND_ROW(4) ATTEND_ROW(5)
        b += ldb;
    }
#undef ATTEND_ROW

    const __m256 va = _mm256_set1_ps(alpha);
    if (mr == MR && nr == NR) {
        const __m256 vb = _mm256_set1_ps(beta);
#define ATTEND_UPDATE1(i, q)                                                                  \
    {                                                                                        \
        float *dst = c + (i) * ldc + 8 * q;                                                  \
        __m256 v = _mm256_mul_ps(va, c##i##q);                                               \
        if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(dst), v);                  \
        _mm256_storeu_ps(dst, v);                                                            \
    }
#define ATTEND_UPDATE(i) ATTEND_UPDATE1(i, 0) ATTEND_UPDATE1(i, 1)
        ATTEND_UPDATE(0) ATTEND_UPDATE(1) ATTEND_UPDATE(2)
        ATTEND_UPDATE(3) ATTEND_UPDATE(4) ATTEND_UPDATE(5)
#undef ATTEND_UPDATE
#undef ATTEND_UPDATE1
        return;
    }
    float tile[MR * NR];
#define ATTEND_SPILL(i) _mm256_storeu_ps(tile + (i) * NR, c##i##0); _mm256_storeu_ps(tile + (i) * NR + 8, c##i##1);
    ATTEND_SPILL(0) ATTEND_SPILL(1) ATTEND_SPILL(2) ATTEND_SPILL(3) ATTEND_SPILL(4) ATTEND_SPILL(5)
#undef ATTEND_SPILL
    attend_store_tile(tile, NR, c, ldc, alpha, beta, mr, nr);
}

ATTEND_SGEMM_KERNELS_6(T256, sgemm_kernel_avx2, sgemm_kernel_direct_a_avx2)

T256 static void sgemm_pack_a_avx2(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                                   ptrdiff_t kc, float *dst) {
    attend_pack_a_plain(trans_a, a, lda, mc, kc, dst, MR);
}

T256 static void sgemm_pack_b_avx2(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                                   ptrdiff_t nc, float *dst) {
    attend_pack_b_plain(trans_b, b, ldb, kc, nc, dst, NR);
}

// A·Bᵀ with few rows of A, both operands read in place along k (see sgemm_avx512.c): 4×2 tiles
// of C, eight ymm accumulators reduced by horizontal adds.
// Scalar twin: c[i·ldc + j] = alpha · Σ_p a[i·lda + p] · b[j·ldb + p] + (beta == 0 ? 0 : beta · c[i·ldc + j]).
T256 static void sgemm_dot_tile_avx2(ptrdiff_t k, const float *a0, const float *a1, const float *a2,
                                     const float *a3, const float *b0, const float *b1, float *c,
                                     ptrdiff_t ldc, float alpha, float beta, ptrdiff_t rows, ptrdiff_t cols) {
    __m256 s00 = _mm256_setzero_ps(), s01 = s00, s10 = s00, s11 = s00;
    __m256 s20 = s00, s21 = s00, s30 = s00, s31 = s00;
#define ATTEND_DOT_STEP(LOAD)                                                               \
    {                                                                                      \
        const __m256 y0 = LOAD(b0), y1 = LOAD(b1);                                         \
        __m256 x = LOAD(a0);                                                               \
        s00 = _mm256_fmadd_ps(x, y0, s00); s01 = _mm256_fmadd_ps(x, y1, s01);              \
        x = LOAD(a1);                                                                      \
        s10 = _mm256_fmadd_ps(x, y0, s10); s11 = _mm256_fmadd_ps(x, y1, s11);              \
        x = LOAD(a2);                                                                      \
        s20 = _mm256_fmadd_ps(x, y0, s20); s21 = _mm256_fmadd_ps(x, y1, s21);              \
        x = LOAD(a3);                                                                      \
        s30 = _mm256_fmadd_ps(x, y0, s30); s31 = _mm256_fmadd_ps(x, y1, s31);              \
    }
    ptrdiff_t p = 0;
#define ATTEND_LOAD_FULL(ptr) _mm256_loadu_ps((ptr) + p)
    for (; p + 8 <= k; p += 8) ATTEND_DOT_STEP(ATTEND_LOAD_FULL)
#undef ATTEND_LOAD_FULL
    if (p < k) {  // masked-off lanes are not read (and cannot fault)
        const __m256i km = attend_mask8(k - p);
#define ATTEND_LOAD_TAIL(ptr) _mm256_maskload_ps((ptr) + p, km)
        ATTEND_DOT_STEP(ATTEND_LOAD_TAIL)
#undef ATTEND_LOAD_TAIL
    }
#undef ATTEND_DOT_STEP
    // [Σ s00, Σ s01, Σ s10, Σ s11, Σ s20, Σ s21, Σ s30, Σ s31]
    const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(s00, s01), _mm256_hadd_ps(s10, s11));
    const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(s20, s21), _mm256_hadd_ps(s30, s31));
    const __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
    float out[8];
    _mm256_storeu_ps(out, _mm256_mul_ps(sum, _mm256_set1_ps(alpha)));
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = c + i * ldc;
        for (ptrdiff_t j = 0; j < cols; ++j) row[j] = beta == 0.0f ? out[2 * i + j] : out[2 * i + j] + beta * row[j];
    }
}

T256 static void sgemm_dot_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                                ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                                ptrdiff_t ldc) {
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 2) {
        const ptrdiff_t cols = n - j0 < 2 ? n - j0 : 2;
        const float *b0 = b + j0 * ldb, *b1 = b + (j0 + cols - 1) * ldb;  // edge: re-read, discard
        for (ptrdiff_t i0 = 0; i0 < m; i0 += 4) {
            const ptrdiff_t rows = m - i0 < 4 ? m - i0 : 4;
            const float *a0 = a + i0 * lda;  // edge rows re-read the last valid row; discarded
            const float *a1 = a + (i0 + (rows > 1 ? 1 : 0)) * lda;
            const float *a2 = a + (i0 + (rows > 2 ? 2 : rows - 1)) * lda;
            const float *a3 = a + (i0 + (rows > 3 ? 3 : rows - 1)) * lda;
            sgemm_dot_tile_avx2(k, a0, a1, a2, a3, b0, b1, c + i0 * ldc + j0, ldc, alpha, beta, rows, cols);
        }
    }
}

static const attend_sgemm_ukernel ukernel_avx2 = {
    ATTEND_ISA_AVX2, MR, NR, sgemm_kernel_avx2, sgemm_pack_a_avx2, sgemm_pack_b_avx2,
    sgemm_dot_avx2, sgemm_kernel_direct_a_avx2,
};

const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void) { return &ukernel_avx2; }

#else
#include "sgemm_common.h"
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void) { return 0; }
#endif
