// Portable SGEMM: a 4×8 micro-kernel in plain C with the compiler's 4-float vectors,
// plus the unblocked kernel for tiny problems.
//
// The micro-kernel is its own scalar twin:
//   for i in 0..<4, j in 0..<8: acc[i][j] = Σ_p a[p·4 + i] · b[p·ldb + j]
//   c[i·ldc + j] = alpha · acc[i][j] + (beta == 0 ? 0 : beta · c[i·ldc + j])   (i < mr, j < nr)
#include "sgemm_common.h"

#define MR 4
#define NR 8

// Four-float vectors through the compiler's vector extension: SSE2 on x86-64, NEON on arm64,
// scalar code elsewhere. Loads and stores go through memcpy (no alignment assumed).
typedef float attend_v4 __attribute__((vector_size(16)));

static inline attend_v4 v4_load(const float *p) {
    attend_v4 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline attend_v4 v4_splat(float x) { return (attend_v4){x, x, x, x}; }

static void sgemm_kernel_generic(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                                 ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, float alpha,
                                 float beta, ptrdiff_t mr, ptrdiff_t nr) {
    attend_v4 c00 = v4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
    attend_v4 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const attend_v4 b0 = v4_load(b), b1 = v4_load(b + 4);
        attend_v4 ai = v4_splat(a[0]);
        c00 += ai * b0; c01 += ai * b1;
        ai = v4_splat(a[1]);
        c10 += ai * b0; c11 += ai * b1;
        ai = v4_splat(a[2]);
        c20 += ai * b0; c21 += ai * b1;
        ai = v4_splat(a[3]);
        c30 += ai * b0; c31 += ai * b1;
        a += MR;
        b += ldb;
    }
    float acc[MR * NR];
    __builtin_memcpy(acc + 0, &c00, 16); __builtin_memcpy(acc + 4, &c01, 16);
    __builtin_memcpy(acc + 8, &c10, 16); __builtin_memcpy(acc + 12, &c11, 16);
    __builtin_memcpy(acc + 16, &c20, 16); __builtin_memcpy(acc + 20, &c21, 16);
    __builtin_memcpy(acc + 24, &c30, 16); __builtin_memcpy(acc + 28, &c31, 16);
    attend_store_tile(acc, NR, c, ldc, alpha, beta, mr, nr);
}

static void sgemm_pack_a_generic(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                                 ptrdiff_t kc, float *dst) {
    attend_pack_a_plain(trans_a, a, lda, mc, kc, dst, MR);
}

static void sgemm_pack_b_generic(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                                 ptrdiff_t nc, float *dst) {
    attend_pack_b_plain(trans_b, b, ldb, kc, nc, dst, NR);
}

static const attend_sgemm_ukernel ukernel_generic = {
    ATTEND_ISA_GENERIC, MR, NR, sgemm_kernel_generic, sgemm_pack_a_generic, sgemm_pack_b_generic,
    0,
};

const attend_sgemm_ukernel *attend_sgemm_ukernel_generic(void) { return &ukernel_generic; }

void attend_sgemm_small(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                        const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                        float beta, float *c, ptrdiff_t ldc) {
    const ptrdiff_t as_i = trans_a ? 1 : lda, as_p = trans_a ? lda : 1;
    const ptrdiff_t bs_p = trans_b ? 1 : ldb, bs_j = trans_b ? ldb : 1;
    for (ptrdiff_t i = 0; i < m; ++i) {
        float *row = c + i * ldc;
        for (ptrdiff_t j = 0; j < n; ++j) {
            float acc = 0.0f;
            const float *ap = a + i * as_i, *bp = b + j * bs_j;
            for (ptrdiff_t p = 0; p < k; ++p) acc += ap[p * as_p] * bp[p * bs_p];
            row[j] = beta == 0.0f ? alpha * acc : alpha * acc + beta * row[j];
        }
    }
}
