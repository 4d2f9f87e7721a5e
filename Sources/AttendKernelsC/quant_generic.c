// Portable block-quantized kernels (every CPU): each block is decoded to 32 floats exactly as
// ggml's scalar dequantize_row_q4_0 / _q4_1 / _q8_0 do, then multiplied with float32 sums.
//
// Scalar twin (the specification; this file is it):
//   for j < n: decode row j of W to floats w[0 ..< 32·nb]
//     for i < m: y[i·ldy + j] = Σ_p w[p] · x[i·ldx + p]   (float32, one block at a time)
#include "isa_pick.h"
#include <math.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include "attend_quant.h"

// ggml's scalar code rounds q·d before adding m; keep the compiler from fusing them.
#pragma STDC FP_CONTRACT OFF

static void decode_block(int qtype, const uint8_t *b, float *out) {
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: {
        const float d = attend_half_at(b);
        for (int t = 0; t < 16; ++t) {
            out[t] = (float)((int)(b[2 + t] & 0x0F) - 8) * d;
            out[t + 16] = (float)((int)(b[2 + t] >> 4) - 8) * d;
        }
        break;
    }
    case ATTEND_QTYPE_Q4_1: {
        const float d = attend_half_at(b), m = attend_half_at(b + 2);
        for (int t = 0; t < 16; ++t) {
            const float lo = (float)(b[4 + t] & 0x0F) * d, hi = (float)(b[4 + t] >> 4) * d;
            out[t] = lo + m;
            out[t + 16] = hi + m;
        }
        break;
    }
    case ATTEND_QTYPE_Q8_0: {
        const float d = attend_half_at(b);
        for (int t = 0; t < 32; ++t) out[t] = (float)(int8_t)b[2 + t] * d;
        break;
    }
    default:
        for (int t = 0; t < 32; ++t) out[t] = 0.0f;
    }
}

static void quant_dequant_generic(int qtype, const void *blocks, ptrdiff_t nb, float *out) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    const uint8_t *p = (const uint8_t *)blocks;
    for (ptrdiff_t b = 0; b < nb; ++b) decode_block(qtype, p + b * bb, out + 32 * b);
}

static void quant_dot_generic(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const float *x,
                              ptrdiff_t ldx, const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    enum { MT = 4 };
    float blk[32];
    for (ptrdiff_t j = 0; j < n; ++j) {
        const uint8_t *row = (const uint8_t *)w + j * ldw;
        for (ptrdiff_t i0 = 0; i0 < m; i0 += MT) {
            const ptrdiff_t mt = m - i0 < MT ? m - i0 : MT;
            float acc[MT] = {0, 0, 0, 0};
            for (ptrdiff_t b = 0; b < nb; ++b) {
                decode_block(qtype, row + b * bb, blk);
                for (ptrdiff_t r = 0; r < mt; ++r) {
                    const float *xr = x + (i0 + r) * ldx + 32 * b;
                    float s = 0.0f;
                    for (int t = 0; t < 32; ++t) s += blk[t] * xr[t];
                    acc[r] += s;
                }
            }
            for (ptrdiff_t r = 0; r < mt; ++r) y[(i0 + r) * ldy + j] = acc[r];
        }
    }
}

/// The weight quants of one block as the int8 / int16 kernels multiply them (unsigned nibbles for the
/// 4-bit types, signed bytes for Q8_0), its scale d_w and its constant's coefficient c (attend_quant.h).
static void weight_quants(int qtype, const uint8_t *b, int q[32], float *d, float *c) {
    *d = attend_half_at(b);
    switch (qtype) {
    case ATTEND_QTYPE_Q8_0:
        for (int t = 0; t < 32; ++t) q[t] = (int8_t)b[2 + t];
        *c = 0.0f;
        break;
    default: {
        const uint8_t *qs = b + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2);
        for (int t = 0; t < 16; ++t) {
            q[t] = qs[t] & 0x0F;
            q[t + 16] = qs[t] >> 4;
        }
        *c = qtype == ATTEND_QTYPE_Q4_1 ? attend_half_at(b + 2) : -8.0f * *d;
    }
    }
}

void attend_quant_dot_q16_reference(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int16_t *qx,
                                    const float *dx, const float *sx, const void *w, ptrdiff_t ldw,
                                    float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    if (bb == 0) return;
    int q[32];
    for (ptrdiff_t j = 0; j < n; ++j) {
        const uint8_t *row = (const uint8_t *)w + j * ldw;
        for (ptrdiff_t i = 0; i < m; ++i) {
            float acc = 0.0f, accs = 0.0f;
            for (ptrdiff_t b = 0; b < nb; ++b) {
                float d, c;
                weight_quants(qtype, row + b * bb, q, &d, &c);
                const int16_t *xq = qx + i * 32 * nb + 32 * b;
                int32_t isum = 0;
                for (int t = 0; t < 32; ++t) isum += q[t] * (int32_t)xq[t];
                acc += (float)isum * (d * dx[i * nb + b]);
                accs += c * sx[i * nb + b];
            }
            y[i * ldy + j] = acc + accs;
        }
    }
}

static void quant_dot_q16_generic(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int16_t *qx,
                                  const float *dx, const float *sx, const void *w, ptrdiff_t ldw, float *y,
                                  ptrdiff_t ldy) {
    attend_quant_dot_q16_reference(qtype, m, n, nb, qx, dx, sx, w, ldw, y, ldy);
}

void attend_quant_activations_q16(ptrdiff_t m, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
                                  int16_t *qx, float *dx, float *sx) {
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t b = 0; b < nb; ++b) {
            const float *xb = x + i * ldx + 32 * b;
            int16_t *q = qx + i * 32 * nb + 32 * b;
            float amax = 0.0f;
            for (int t = 0; t < 32; ++t) {
                const float a = xb[t] < 0 ? -xb[t] : xb[t];
                if (a > amax) amax = a;
            }
            const float d = amax / 32767.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int t = 0; t < 32; ++t) {
                // roundf: half away from zero; |x · id| ≤ 32767 up to rounding, clamped for safety.
                int r = (int)roundf(xb[t] * id);
                r = r > 32767 ? 32767 : r < -32767 ? -32767 : r;
                q[t] = (int16_t)r;
                sum += r;
            }
            dx[i * nb + b] = d;
            sx[i * nb + b] = d * (float)sum;
        }
    }
}

static const attend_quant_ukernel ukernel_generic = {ATTEND_ISA_GENERIC, quant_dequant_generic, quant_dot_generic, 0,
                                                     quant_dot_q16_generic};

void attend_quant_activations_q8(ptrdiff_t m, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
                                 int8_t *qx, float *dx, float *sx) {
    for (ptrdiff_t i = 0; i < m; ++i) {
        for (ptrdiff_t b = 0; b < nb; ++b) {
            const float *xb = x + i * ldx + 32 * b;
            int8_t *q = qx + i * 32 * nb + 32 * b;
            float amax = 0.0f;
            for (int t = 0; t < 32; ++t) {
                const float a = xb[t] < 0 ? -xb[t] : xb[t];
                if (a > amax) amax = a;
            }
            const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int t = 0; t < 32; ++t) {
                // roundf: half away from zero; |x · id| ≤ 127 up to rounding, clamped for safety.
                int r = (int)roundf(xb[t] * id);
                r = r > 127 ? 127 : r < -127 ? -127 : r;
                q[t] = (int8_t)r;
                sum += r;
            }
            dx[i * nb + b] = d;
            sx[i * nb + b] = d * (float)sum;
        }
    }
}

int attend_cpu_has_avx512vnni(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

int attend_cpu_has_avx512bw(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int attend_cpu_has_avxvnni(void) {
#if defined(__x86_64__)
    // CPUID.(EAX=7, ECX=1):EAX bit 4 is AVX-VNNI; the ymm state must be enabled (the AVX2 check covers it).
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 4) & 1u ? attend_isa_supported(ATTEND_ISA_AVX2) : 0;
#else
    return 0;
#endif
}

// Per-ISA tables, defined in quant_avx2.c / quant_avx512.c (null when this build has no code for that ISA).
const attend_quant_ukernel *attend_quant_ukernel_avx2(void);
const attend_quant_ukernel *attend_quant_ukernel_avx2vnni(void);
const attend_quant_ukernel *attend_quant_ukernel_avx512(void);
const attend_quant_ukernel *attend_quant_ukernel_avx512vnni(void);

const attend_quant_ukernel *attend_quant_ukernel_variant(attend_isa isa, int vnni) {
    if (isa == ATTEND_ISA_GENERIC) return vnni ? 0 : &ukernel_generic;
    if (!attend_isa_supported(isa)) return 0;
    switch (isa) {
    case ATTEND_ISA_AVX2: return vnni ? (attend_cpu_has_avxvnni() ? attend_quant_ukernel_avx2vnni() : 0) : attend_quant_ukernel_avx2();
    case ATTEND_ISA_AVX512:
        if (!vnni) return attend_cpu_has_avx512bw() ? attend_quant_ukernel_avx512() : 0;
        return attend_cpu_has_avx512vnni() ? attend_quant_ukernel_avx512vnni() : 0;
    default: return 0;
    }
}

// The ISA picker's tables (isa_pick.h): each ISA's VNNI variant when the CPU has it, else its plain one, as
// attend_quant_ukernel_variant decides (AVX-512's plain set needs BW: NULL without it, so the picker falls back to
// AVX2), the portable kernel everywhere else.
static const attend_quant_ukernel *quant_table_generic(void) { return &ukernel_generic; }
static const attend_quant_ukernel *quant_table_avx2(void) {
    const attend_quant_ukernel *u = attend_quant_ukernel_variant(ATTEND_ISA_AVX2, 1);
    return u ? u : attend_quant_ukernel_variant(ATTEND_ISA_AVX2, 0);
}
static const attend_quant_ukernel *quant_table_avx512(void) {
    const attend_quant_ukernel *u = attend_quant_ukernel_variant(ATTEND_ISA_AVX512, 1);
    return u ? u : attend_quant_ukernel_variant(ATTEND_ISA_AVX512, 0);
}
ATTEND_ISA_TABLE(quant_table_generic) ATTEND_ISA_TABLE(quant_table_avx2) ATTEND_ISA_TABLE(quant_table_avx512)

const attend_quant_ukernel *attend_quant_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{quant_table_generic_table, quant_table_avx2_table, quant_table_avx512_table, NULL}};
    return (const attend_quant_ukernel *)attend_isa_pick(isa, &family);
}
