// NEON int8 GEMM (Armv8.2 dot product, `sdot`): a 4×16 micro-kernel swept four times over the 64-column sliver,
// on signed activations (the portable packing: no offset to take back), compiled through a target attribute and
// chosen at run time only when the CPU reports the dot-product extension (HWCAP_ASIMDDP on Linux; every Apple
// silicon core has it).
//
// Scalar twin of the micro-kernel (the specification; see attend_int8.h and gemm_int8_generic.c):
//   sum(i, j, b) = Σ_{p∈b} aq[i][p] · wq[j][p]                 (int32, exact)
//   acc = fma((float)sum(i, j, b), t_{i,b}, acc) over b = 0, 1, …;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
// `vdotq_laneq_s32(sum, w, a, r)` adds, in each 32-bit lane l, the dot product of the four bytes of column l's quad
// in `w` with the four bytes of row r's quad in `a`: a packed-A quad row (four rows' words, 16 bytes) is one vector,
// a packed-W quad row of 16 columns four vectors, so one quad of a 4×16 tile is 16 `sdot` and 5 loads. The int32
// sums are exact, the conversion is exact (|sum| ≤ 64·127² < 2²⁴), and every float step is the one IEEE operation
// written above in the same order (vfmaq_f32 rounds once, like fmaf), so the bits are the portable kernel's.
#include "attend_int8.h"
#include "kernel_math.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

#define TDOT __attribute__((target("dotprod")))
#define MR 4
#define NR ATTEND_INT8_NR
#define KB ATTEND_INT8_KB
#define QB (KB / 4)  // quads per block
#define TC 16        // columns per tile: four int32x4 vectors

int attend_cpu_has_neon_dotprod(void) {
#if defined(__APPLE__)
    return 1;
#elif defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
    return 0;
#endif
}

void attend_int8_pack_a_portable(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                 float *scales, int mr, int offset);

static void int8_pack_a_neondot(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst, float *scales) {
    attend_int8_pack_a_portable(a, lda, mc, k, dst, scales, MR, 0);
}

/// Columns [j0, j0 + 16) of the sliver for all MR rows (rows past mr are packed as zeros and computed, not stored).
TDOT static inline __attribute__((always_inline)) void
int8_tile_neondot(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales, const uint32_t *restrict w,
                  const float *restrict w_scales, float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t j0,
                  ptrdiff_t mr, ptrdiff_t nr) {
    float32x4_t acc[MR][4];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = vdupq_n_f32(0.0f);
    for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
        int32x4_t sum[MR][4];
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < 4; ++v) sum[i][v] = vdupq_n_s32(0);
        const ptrdiff_t q1 = q0 + QB < kq ? q0 + QB : kq;
        for (ptrdiff_t q = q0; q < q1; ++q) {
            const int8x16_t av = vreinterpretq_s8_u32(vld1q_u32(a + q * MR));   // rows 0…3, one quad each
            const uint32_t *wq = w + q * NR + j0;
            const int8x16_t w0 = vreinterpretq_s8_u32(vld1q_u32(wq)), w1 = vreinterpretq_s8_u32(vld1q_u32(wq + 4));
            const int8x16_t w2 = vreinterpretq_s8_u32(vld1q_u32(wq + 8)), w3 = vreinterpretq_s8_u32(vld1q_u32(wq + 12));
#define ATTEND_SDOT_ROW(i)                                   \
            sum[i][0] = vdotq_laneq_s32(sum[i][0], w0, av, i); \
            sum[i][1] = vdotq_laneq_s32(sum[i][1], w1, av, i); \
            sum[i][2] = vdotq_laneq_s32(sum[i][2], w2, av, i); \
            sum[i][3] = vdotq_laneq_s32(sum[i][3], w3, av, i);
            ATTEND_SDOT_ROW(0) ATTEND_SDOT_ROW(1) ATTEND_SDOT_ROW(2) ATTEND_SDOT_ROW(3)
#undef ATTEND_SDOT_ROW
        }
        for (int i = 0; i < MR; ++i) {
            const float32x4_t t = vdupq_n_f32(a_scales[b * MR + i]);
            for (int v = 0; v < 4; ++v) acc[i][v] = vfmaq_f32(acc[i][v], vcvtq_f32_s32(sum[i][v]), t);
        }
    }
    float32x4_t s[4];
    for (int v = 0; v < 4; ++v) s[v] = vld1q_f32(w_scales + j0 + 4 * v);   // scales are padded to the sliver
    const ptrdiff_t cols = nr - j0 < TC ? nr - j0 : TC;
    const float32x4_t vbeta = vdupq_n_f32(beta);
    for (ptrdiff_t i = 0; i < mr; ++i) {
        float *out = c + i * ldc + j0;
        float32x4_t value[4];
        for (int v = 0; v < 4; ++v) value[v] = vmulq_f32(acc[i][v], s[v]);
        if (cols == TC) {
            for (int v = 0; v < 4; ++v) {
                float32x4_t r = value[v];
                if (beta != 0.0f) {
                    const float32x4_t prior = vmulq_f32(vbeta, vld1q_f32(out + 4 * v));
                    r = vaddq_f32(r, prior);
                }
                vst1q_f32(out + 4 * v, r);
            }
        } else {
            float lanes[TC];
            for (int v = 0; v < 4; ++v) vst1q_f32(lanes + 4 * v, value[v]);
            for (ptrdiff_t j = 0; j < cols; ++j) attend_store_beta(out + j, lanes[j], beta);
        }
    }
}

TDOT static void int8_kernel_neondot(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                     const uint32_t *restrict w, const float *restrict w_scales,
                                     const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                                     ptrdiff_t mr, ptrdiff_t nr) {
    (void)w_offsets;  // signed activations: no offset to take back
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += TC)
        int8_tile_neondot(kq, a, a_scales, w, w_scales, c, ldc, beta, j0, mr, nr);
}

static const attend_int8_ukernel int8_ukernel_neondot = {MR, NR, int8_kernel_neondot, int8_pack_a_neondot, 0};

const attend_int8_ukernel *attend_int8_ukernel_neondot(void) { return &int8_ukernel_neondot; }

#else
int attend_cpu_has_neon_dotprod(void) { return 0; }
const attend_int8_ukernel *attend_int8_ukernel_neondot(void) { return 0; }
#endif
