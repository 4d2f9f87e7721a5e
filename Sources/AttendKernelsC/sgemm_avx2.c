// AVX2+FMA SGEMM: a 6×16 micro-kernel (12 ymm accumulators); packing is the plain C loops
// compiled for AVX2.
//
// Scalar twin of the micro-kernel (the specification):
//   for i in 0..<6, j in 0..<16: acc[i][j] = Σ_p a[p·6 + i] · b[p·ldb + j]
//   c[i·ldc + j] = alpha · acc[i][j] + (beta == 0 ? 0 : beta · c[i·ldc + j])   (i < mr, j < nr)
#if defined(__x86_64__)
#include <immintrin.h>
#include "sgemm_common.h"

#define T256 __attribute__((target("avx2,fma")))
#define MR 6
#define NR 16

T256 static void sgemm_kernel_avx2(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                                   ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, float alpha,
                                   float beta, ptrdiff_t mr, ptrdiff_t nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define ATTEND_ROW(i)                                   \
    ai = _mm256_broadcast_ss(a + (i));                  \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);         \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_loadu_ps(b);
        const __m256 b1 = _mm256_loadu_ps(b + 8);
        __m256 ai;
        ATTEND_ROW(0) ATTEND_ROW(1) ATTEND_ROW(2) ATTEND_ROW(3) ATTEND_ROW(4) ATTEND_ROW(5)
        a += MR;
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

T256 static void sgemm_pack_a_avx2(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                                   ptrdiff_t kc, float *dst) {
    attend_pack_a_plain(trans_a, a, lda, mc, kc, dst, MR);
}

T256 static void sgemm_pack_b_avx2(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                                   ptrdiff_t nc, float *dst) {
    attend_pack_b_plain(trans_b, b, ldb, kc, nc, dst, NR);
}

static const attend_sgemm_ukernel ukernel_avx2 = {
    ATTEND_ISA_AVX2, MR, NR, sgemm_kernel_avx2, sgemm_pack_a_avx2, sgemm_pack_b_avx2,
    0,
};

const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void) { return &ukernel_avx2; }

#else
#include "sgemm_common.h"
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void) { return 0; }
#endif
