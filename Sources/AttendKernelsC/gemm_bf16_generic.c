// Portable BF16-weights GEMM: rounding, weight packing, and a 4-row micro-kernel in plain C with
// the compiler's 8-float vectors. Bit-identical to the AVX-512 BF16 kernel (see attend_bf16.h):
// each bf16 pair is widened to float32 (a shift) and accumulated odd element first, then even.
//
// Scalar twin of the micro-kernel (the specification):
//   for i < mr, j < nr: acc = 0
//     for q < kp: acc = (acc + hi(a[q·MR + i])·hi(w[q·NR + j])) + lo(a[q·MR + i])·lo(w[q·NR + j])
//     c[i·ldc + j] = acc + (beta == 0 ? 0 : beta · c[i·ldc + j])
#include <string.h>
#include "attend_bf16.h"
#include "kernel_math.h"

#define MR 4
#define NR ATTEND_BF16_NR
#define NV 8  // columns per vector group

uint16_t attend_bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);  // NaN: quieten
    if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);          // ±0, subnormal → ±0
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);                     // RNE (may reach ±Inf)
}

float attend_bf16_widen(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static inline uint32_t pair_word(const float *row, ptrdiff_t k, ptrdiff_t q) {
    const ptrdiff_t p = 2 * q;
    const uint32_t lo = attend_bf16_round(row[p]);
    const uint32_t hi = p + 1 < k ? attend_bf16_round(row[p + 1]) : 0u;
    return lo | (hi << 16);
}

void attend_bf16_pack_weight(const float *w, ptrdiff_t ldw, ptrdiff_t n, ptrdiff_t k, uint32_t *dst) {
    const ptrdiff_t kp = (k + 1) / 2;
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        for (ptrdiff_t c = 0; c < NR; ++c) {
            uint32_t *d = dst + c;
            if (j0 + c < n) {
                const float *row = w + (j0 + c) * ldw;
                for (ptrdiff_t q = 0; q < kp; ++q) d[q * NR] = pair_word(row, k, q);
            } else {
                for (ptrdiff_t q = 0; q < kp; ++q) d[q * NR] = 0u;
            }
        }
        dst += kp * NR;
    }
}

static void bf16_pack_a_generic(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst) {
    const ptrdiff_t kp = (k + 1) / 2;
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        for (ptrdiff_t r = 0; r < MR; ++r) {
            if (i0 + r < mc) {
                const float *row = a + (i0 + r) * lda;
                for (ptrdiff_t q = 0; q < kp; ++q) dst[q * MR + r] = pair_word(row, k, q);
            } else {
                for (ptrdiff_t q = 0; q < kp; ++q) dst[q * MR + r] = 0u;
            }
        }
        dst += kp * MR;
    }
}

// Eight-lane vectors through the compiler's vector extension (two SSE registers on baseline
// x86-64, two NEON registers on arm64). A same-size vector cast reinterprets the bits.
typedef float attend_f8 __attribute__((vector_size(32)));
typedef uint32_t attend_u8 __attribute__((vector_size(32)));

static inline attend_u8 u8_load(const uint32_t *p) {
    attend_u8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline attend_f8 f8_splat(float x) { return (attend_f8){x, x, x, x, x, x, x, x}; }

static void bf16_kernel_generic(ptrdiff_t kp, const uint32_t *restrict a, const uint32_t *restrict w,
                                float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    const attend_u8 hi_mask = {0xFFFF0000u, 0xFFFF0000u, 0xFFFF0000u, 0xFFFF0000u,
                               0xFFFF0000u, 0xFFFF0000u, 0xFFFF0000u, 0xFFFF0000u};
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += NV) {
        attend_f8 acc[MR];
        for (int i = 0; i < MR; ++i) acc[i] = f8_splat(0.0f);
        const uint32_t *ap = a, *wp = w + j0;
        for (ptrdiff_t q = 0; q < kp; ++q) {
            const attend_u8 wv = u8_load(wp);
            const attend_f8 w_hi = (attend_f8)(wv & hi_mask), w_lo = (attend_f8)(wv << 16);
            for (int i = 0; i < MR; ++i) {
                const float a_hi = attend_bf16_widen((uint16_t)(ap[i] >> 16));
                const float a_lo = attend_bf16_widen((uint16_t)ap[i]);
                acc[i] += f8_splat(a_hi) * w_hi;  // separate statements: two roundings, in this order
                acc[i] += f8_splat(a_lo) * w_lo;
            }
            ap += MR;
            wp += NR;
        }
        const ptrdiff_t cols = nr - j0 < NV ? nr - j0 : NV;
        for (ptrdiff_t i = 0; i < mr; ++i) {
            float out[NV];
            memcpy(out, &acc[i], sizeof out);
            float *row = c + i * ldc + j0;
            for (ptrdiff_t j = 0; j < cols; ++j) attend_store_beta(row + j, out[j], beta);
        }
    }
}

static const attend_bf16_ukernel bf16_ukernel_generic = {0, MR, NR, bf16_kernel_generic, bf16_pack_a_generic};

// Defined in gemm_bf16_avx512.c, gemm_bf16_avx512f.c and gemm_bf16_avx2.c: each set, or null
// when this build has none.
const attend_bf16_ukernel *attend_bf16_ukernel_avx512(void);
const attend_bf16_ukernel *attend_bf16_ukernel_avx512f(void);
const attend_bf16_ukernel *attend_bf16_ukernel_avx2(void);

int attend_cpu_has_avx512bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // compiler-rt sets the AVX-512 features only when the OS saves the ZMM state (XCR0).
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

const attend_bf16_ukernel *attend_bf16_ukernel_kind(attend_bf16_kernel_kind kind) {
    switch (kind) {
    case ATTEND_BF16_KERNEL_PORTABLE:
        return &bf16_ukernel_generic;
    case ATTEND_BF16_KERNEL_AVX2:
        return attend_isa_supported(ATTEND_ISA_AVX2) ? attend_bf16_ukernel_avx2() : 0;
    case ATTEND_BF16_KERNEL_AVX512F:
        return attend_isa_supported(ATTEND_ISA_AVX512) ? attend_bf16_ukernel_avx512f() : 0;
    case ATTEND_BF16_KERNEL_AVX512BF16:
        return attend_isa_supported(ATTEND_ISA_AVX512) && attend_cpu_has_avx512bf16() ? attend_bf16_ukernel_avx512() : 0;
    }
    return 0;
}
