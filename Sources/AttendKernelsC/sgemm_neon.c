// NEON SGEMM (AArch64): a 6×16 micro-kernel (24 q-register accumulators, A by lane).
//
// Scalar twin of the micro-kernel (the specification):
//   for i in 0..<6, j in 0..<16: acc[i][j] = Σ_p a[p·6 + i] · b[p·ldb + j]
//   c[i·ldc + j] = alpha · acc[i][j] + (beta == 0 ? 0 : beta · c[i·ldc + j])   (i < mr, j < nr)
#include "sgemm_common.h"
#if defined(__aarch64__)
#include <arm_neon.h>

#define MR 6
#define NR 16

static void sgemm_kernel_neon(ptrdiff_t kc, const float *restrict a, const float *restrict b,
                              ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, float alpha,
                              float beta, ptrdiff_t mr, ptrdiff_t nr) {
    float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c03 = c00;
    float32x4_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    float32x4_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    float32x4_t c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    float32x4_t c50 = c00, c51 = c00, c52 = c00, c53 = c00;
#define ATTEND_ROW(i, v, lane)                                  \
    c##i##0 = vfmaq_laneq_f32(c##i##0, b0, v, lane);            \
    c##i##1 = vfmaq_laneq_f32(c##i##1, b1, v, lane);            \
    c##i##2 = vfmaq_laneq_f32(c##i##2, b2, v, lane);            \
    c##i##3 = vfmaq_laneq_f32(c##i##3, b3, v, lane);
    for (ptrdiff_t p = 0; p < kc; ++p) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        const float32x4_t b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
        const float32x4_t a03 = vld1q_f32(a);
        const float32x4_t a45 = vcombine_f32(vld1_f32(a + 4), vdup_n_f32(0.0f));
        ATTEND_ROW(0, a03, 0) ATTEND_ROW(1, a03, 1) ATTEND_ROW(2, a03, 2) ATTEND_ROW(3, a03, 3)
        ATTEND_ROW(4, a45, 0) ATTEND_ROW(5, a45, 1)
        a += MR;
        b += ldb;
    }
#undef ATTEND_ROW
    if (mr == MR && nr == NR) {
        const float32x4_t va = vdupq_n_f32(alpha), vb = vdupq_n_f32(beta);
#define ATTEND_UPDATE1(i, q)                                                        \
    {                                                                              \
        float *dst = c + (i) * ldc + 4 * q;                                        \
        float32x4_t v = vmulq_f32(va, c##i##q);                                    \
        if (beta != 0.0f) v = vfmaq_f32(v, vb, vld1q_f32(dst));                    \
        vst1q_f32(dst, v);                                                         \
    }
#define ATTEND_UPDATE(i) ATTEND_UPDATE1(i, 0) ATTEND_UPDATE1(i, 1) ATTEND_UPDATE1(i, 2) ATTEND_UPDATE1(i, 3)
        ATTEND_UPDATE(0) ATTEND_UPDATE(1) ATTEND_UPDATE(2)
        ATTEND_UPDATE(3) ATTEND_UPDATE(4) ATTEND_UPDATE(5)
#undef ATTEND_UPDATE
#undef ATTEND_UPDATE1
        return;
    }
    float tile[MR * NR];
#define ATTEND_SPILL(i)                                                                 \
    vst1q_f32(tile + (i) * NR, c##i##0); vst1q_f32(tile + (i) * NR + 4, c##i##1);      \
    vst1q_f32(tile + (i) * NR + 8, c##i##2); vst1q_f32(tile + (i) * NR + 12, c##i##3);
    ATTEND_SPILL(0) ATTEND_SPILL(1) ATTEND_SPILL(2) ATTEND_SPILL(3) ATTEND_SPILL(4) ATTEND_SPILL(5)
#undef ATTEND_SPILL
    attend_store_tile(tile, NR, c, ldc, alpha, beta, mr, nr);
}

static void sgemm_pack_a_neon(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                              ptrdiff_t kc, float *dst) {
    attend_pack_a_plain(trans_a, a, lda, mc, kc, dst, MR);
}

static void sgemm_pack_b_neon(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                              ptrdiff_t nc, float *dst) {
    attend_pack_b_plain(trans_b, b, ldb, kc, nc, dst, NR);
}

static const attend_sgemm_ukernel ukernel_neon = {
    ATTEND_ISA_NEON, MR, NR, sgemm_kernel_neon, sgemm_pack_a_neon, sgemm_pack_b_neon,
    0,
};

const attend_sgemm_ukernel *attend_sgemm_ukernel_neon(void) { return &ukernel_neon; }

#else
const attend_sgemm_ukernel *attend_sgemm_ukernel_neon(void) { return 0; }
#endif
