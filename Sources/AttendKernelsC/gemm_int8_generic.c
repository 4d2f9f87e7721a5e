// Portable int8 GEMM: quantization, weight packing, a 4-row micro-kernel in plain C, and the choice of kernel set.
// This file is the specification the vector kernels match bit for bit (see attend_int8.h):
//   sum_b = Σ_{q in block b} Σ_e aq[i][4q+e] · wq[j][4q+e]   (int32, exact)
//   acc = fmaf((float)sum_b, t_{i,b}, acc) for b = 0, 1, …;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
#include "isa_pick.h"
#include <math.h>
#include <string.h>
#include "attend_int8.h"
#include "kernel_math.h"

#define MR 4
#define NR ATTEND_INT8_NR
#define KB ATTEND_INT8_KB
#define QB (KB / 4)  // quads per block

/// rne(x · inv) clamped to [−127, 127]. Adding and subtracting 1.5·2²³ rounds a float v with |v| ≤ 2²² to the
/// nearest integer, ties to even (what `rintf` does in the default rounding mode), without a library call, so the
/// loops over a row vectorise; here |x · inv| ≤ 127·(1 + 2⁻²³), since |x| ≤ the row's or block's max. The product
/// is a statement of its own, so it is never fused with the addition.
static inline int8_t quantize(float x, float inv) {
    const float product = x * inv;
    const float shifted = product + ATTEND_EXP_ROUND_MAGIC;   // 1.5·2²³
    float q = shifted - ATTEND_EXP_ROUND_MAGIC;
    if (q > 127.0f) q = 127.0f;
    if (q < -127.0f) q = -127.0f;
    return (int8_t)q;
}

/// max_p |row[p]| over k floats, in eight independent lanes (max is exact, so the order does not matter), so the
/// compiler can keep it in vector registers.
static inline float max_abs(const float *row, ptrdiff_t k) {
    float m[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ptrdiff_t p = 0;
    for (; p + 8 <= k; p += 8)
        for (int l = 0; l < 8; ++l) {
            const float v = fabsf(row[p + l]);
            m[l] = v > m[l] ? v : m[l];
        }
    for (; p < k; ++p) {
        const float v = fabsf(row[p]);
        m[0] = v > m[0] ? v : m[0];
    }
    float r = 0.0f;
    for (int l = 0; l < 8; ++l) r = m[l] > r ? m[l] : r;
    return r;
}

/// The quad word of `q` (int8 values at bytes 0..3; elements past k are 0), plus `offset` added to each byte.
static inline uint32_t quad_word(const int8_t *values, ptrdiff_t k, ptrdiff_t q, int offset) {
    uint32_t word = 0;
    for (int e = 0; e < 4; ++e) {
        const ptrdiff_t p = 4 * q + e;
        const int v = (p < k ? values[p] : 0) + offset;
        word |= (uint32_t)(uint8_t)v << (8 * e);
    }
    return word;
}

void attend_int8_pack_weight(const float *w, ptrdiff_t ldw, ptrdiff_t n, ptrdiff_t k, uint32_t *dst,
                             float *scales, int32_t *offsets) {
    const ptrdiff_t kq = (k + 3) / 4, nb = (k + KB - 1) / KB;
    int8_t row_q[k > 0 ? k : 1];
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        for (ptrdiff_t c = 0; c < NR; ++c) {
            uint32_t *d = dst + c;
            int32_t *o = offsets + c;
            const ptrdiff_t j = j0 + c;
            if (j < n) {
                const float *row = w + j * ldw;
                const float mu = max_abs(row, k);
                const float inv = mu > 0.0f ? 127.0f / mu : 0.0f;
                for (ptrdiff_t p = 0; p < k; ++p) row_q[p] = mu > 0.0f ? quantize(row[p], inv) : 0;
                for (ptrdiff_t q = 0; q < kq; ++q) d[q * NR] = quad_word(row_q, k, q, 0);
                for (ptrdiff_t b = 0; b < nb; ++b) {
                    int32_t sum = 0;
                    for (ptrdiff_t p = b * KB; p < k && p < (b + 1) * KB; ++p) sum += row_q[p];
                    o[b * NR] = -128 * sum;
                }
                scales[j] = mu / 127.0f;
            } else {
                for (ptrdiff_t q = 0; q < kq; ++q) d[q * NR] = 0u;
                for (ptrdiff_t b = 0; b < nb; ++b) o[b * NR] = 0;
                scales[j] = 0.0f;
            }
        }
        dst += kq * NR;
        offsets += nb * NR;
    }
}

/// The portable A packing for slivers of `mr` rows, signed or offset bytes (shared by every set whose packing
/// has no vector version yet).
void attend_int8_pack_a_portable(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                 float *scales, int mr, int offset) {
    const ptrdiff_t kq = (k + 3) / 4, nb = (k + KB - 1) / KB;
    int8_t row_q[k > 0 ? k : 1];
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
        for (ptrdiff_t r = 0; r < mr; ++r) {
            if (i0 + r < mc) {
                const float *row = a + (i0 + r) * lda;
                for (ptrdiff_t b = 0; b < nb; ++b) {
                    const ptrdiff_t p0 = b * KB, len = k - p0 < KB ? k - p0 : KB;
                    const float nu = max_abs(row + p0, len);
                    const float inv = nu > 0.0f ? 127.0f / nu : 0.0f;
                    for (ptrdiff_t p = p0; p < p0 + len; ++p) row_q[p] = nu > 0.0f ? quantize(row[p], inv) : 0;
                    scales[b * mr + r] = nu / 127.0f;
                }
                for (ptrdiff_t q = 0; q < kq; ++q) dst[q * mr + r] = quad_word(row_q, k, q, offset);
            } else {
                const uint32_t zero = offset ? 0x80808080u : 0u;
                for (ptrdiff_t q = 0; q < kq; ++q) dst[q * mr + r] = zero;
                for (ptrdiff_t b = 0; b < nb; ++b) scales[b * mr + r] = 0.0f;
            }
        }
        dst += kq * mr;
        scales += nb * mr;
    }
}

static void int8_pack_a_generic(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst, float *scales) {
    attend_int8_pack_a_portable(a, lda, mc, k, dst, scales, MR, 0);
}

static void int8_kernel_generic(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                const uint32_t *restrict w, const float *restrict w_scales,
                                const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                                ptrdiff_t mr, ptrdiff_t nr) {
    (void)w_offsets;  // signed activations: no offset to take back
    for (ptrdiff_t i = 0; i < mr; ++i) {
        for (ptrdiff_t j = 0; j < nr; ++j) {
            float acc = 0.0f;
            for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
                int32_t sum = 0;
                for (ptrdiff_t q = q0; q < kq && q < q0 + QB; ++q) {
                    const uint32_t av = a[q * MR + i], wv = w[q * NR + j];
                    for (int e = 0; e < 4; ++e) sum += (int32_t)(int8_t)(av >> (8 * e)) * (int32_t)(int8_t)(wv >> (8 * e));
                }
                acc = fmaf((float)sum, a_scales[b * MR + i], acc);
            }
            const float value = acc * w_scales[j];
            attend_store_beta(c + i * ldc + j, value, beta);
        }
    }
}

static const attend_int8_ukernel int8_ukernel_generic = {MR, NR, int8_kernel_generic, int8_pack_a_generic, 0};

// Defined in gemm_int8_avx512.c and gemm_int8_avx2.c: each set, or null when this build has none.
const attend_int8_ukernel *attend_int8_ukernel_avx512vnni(void);
const attend_int8_ukernel *attend_int8_ukernel_avx2(void);
const attend_int8_ukernel *attend_int8_ukernel_avxvnni(void);
const attend_int8_ukernel *attend_int8_ukernel_neondot(void);  // gemm_int8_neon.c

const attend_int8_ukernel *attend_int8_ukernel_kind(attend_int8_kernel_kind kind) {
    switch (kind) {
    case ATTEND_INT8_KERNEL_PORTABLE:
        return &int8_ukernel_generic;
    case ATTEND_INT8_KERNEL_AVX2:
        return attend_isa_supported(ATTEND_ISA_AVX2) ? attend_int8_ukernel_avx2() : 0;
    case ATTEND_INT8_KERNEL_AVX512VNNI:
        return attend_isa_supported(ATTEND_ISA_AVX512) && attend_cpu_has_avx512vnni() ? attend_int8_ukernel_avx512vnni() : 0;
    case ATTEND_INT8_KERNEL_AVXVNNI:
        return attend_cpu_has_avxvnni() ? attend_int8_ukernel_avxvnni() : 0;  // the check includes AVX2's
    case ATTEND_INT8_KERNEL_NEONDOT:
        return attend_isa_supported(ATTEND_ISA_NEON) && attend_cpu_has_neon_dotprod() ? attend_int8_ukernel_neondot() : 0;
    }
    return 0;
}

// The ISA picker's tables (isa_pick.h): AVX-512 only with VNNI (NULL otherwise, so the picker falls back to AVX2),
// AVX2 the AVX-VNNI set when the CPU has AVX-VNNI, else the vpmaddubsw set; NEON only with the dot product (NULL
// otherwise, so the picker falls back to generic); the portable kernel everywhere else.
static const attend_int8_ukernel *int8_table_generic(void) { return &int8_ukernel_generic; }
static const attend_int8_ukernel *int8_table_avx2(void) {
    const attend_int8_ukernel *u = attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_AVXVNNI);
    return u ? u : attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_AVX2);
}
static const attend_int8_ukernel *int8_table_avx512(void) { return attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_AVX512VNNI); }
static const attend_int8_ukernel *int8_table_neon(void) { return attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_NEONDOT); }
ATTEND_ISA_TABLE(int8_table_generic) ATTEND_ISA_TABLE(int8_table_avx2) ATTEND_ISA_TABLE(int8_table_avx512)
ATTEND_ISA_TABLE(int8_table_neon)

const attend_int8_ukernel *attend_int8_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{int8_table_generic_table, int8_table_avx2_table, int8_table_avx512_table, int8_table_neon_table}};
    return (const attend_int8_ukernel *)attend_isa_pick(isa, &family);
}
