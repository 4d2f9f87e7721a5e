#ifndef ATTEND_QUANT_H
#define ATTEND_QUANT_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "attend_kernels.h"

// MARK: - Block-quantized weights (ggml's Q4_0, Q4_1, Q8_0)
//
// Block formats (32 elements each, little-endian, `d` and `m` IEEE binary16; ggml's ggml-common.h):
//   Q4_0  { f16 d; u8 qs[16] }          18 bytes   w[t] = (q[t] − 8) · d
//   Q4_1  { f16 d; f16 m; u8 qs[16] }   20 bytes   w[t] = q[t] · d + m
//   Q8_0  { f16 d; i8 qs[32] }          34 bytes   w[t] = q[t] · d
// In the 4-bit formats q[t] is the low nibble of qs[t] for t < 16 and the high nibble of qs[t − 16]
// for t ≥ 16. Blocks are packed back to back with no alignment (a row of k elements is k/32 blocks).
//
// The kernels compute y = x · Wᵀ with W a matrix of n rows (output features), each row k/32 blocks,
// and x float32 [m, k]: for i < m, j < n
//     y[i·ldy + j] = Σ_{b < nb} Σ_{t < 32} w_j(b, t) · x[i·ldx + 32·b + t]
// The weights are decoded to float32 in registers and multiplied with float32 multiply-adds; the
// activations are never quantized. The generic kernel decodes exactly as ggml's scalar code
// (q·d, then + m, rounded after each); the SIMD kernels use one fused multiply-add w = fma(q, d, m)
// (m = −8·d for Q4_0, which gives exactly (q − 8)·d), so a Q4_1 weight may differ from ggml's by
// 1 ulp. Results differ from the dequantize-then-dot twin by float32 rounding only.

/// ggml type codes of the block formats the kernels read.
typedef enum {
    ATTEND_QTYPE_Q4_0 = 2,
    ATTEND_QTYPE_Q4_1 = 3,
    ATTEND_QTYPE_Q8_0 = 8,
} attend_qtype;

/// Bytes per 32-element block of `qtype` (0 for a code that is not one of the above).
static inline ptrdiff_t attend_quant_block_bytes(int qtype) {
    return qtype == ATTEND_QTYPE_Q4_0 ? 18 : qtype == ATTEND_QTYPE_Q4_1 ? 20 : qtype == ATTEND_QTYPE_Q8_0 ? 34 : 0;
}

/// IEEE binary16 bits → float32 (exact, subnormals and NaN payloads kept).
static inline float attend_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
    if (e == 0) {
        float v = (float)mant * 0x1p-24f;
        return sign ? -v : v;
    }
    bits = e == 31 ? (sign | 0x7F800000u | (mant << 13)) : (sign | ((e + 112u) << 23) | (mant << 13));
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// The binary16 at `p` (unaligned) widened to float32.
static inline float attend_half_at(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    return attend_half_to_float(h);
}

/// Decodes `nb` consecutive blocks of `qtype` at `blocks` into 32·nb floats at `out`, computing each
/// element as that ISA's dot kernel does (see above).
typedef void (*attend_quant_dequant_fn)(int qtype, const void *blocks, ptrdiff_t nb, float *out);

/// y = x · Wᵀ over n weight rows (row j at (const uint8_t *)w + j·ldw bytes, nb blocks each) and
/// m activation rows (row i at x + i·ldx floats, 32·nb of them); writes y[i·ldy + j] (see above).
typedef void (*attend_quant_dot_fn)(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb,
                                    const float *x, ptrdiff_t ldx, const void *w, ptrdiff_t ldw,
                                    float *y, ptrdiff_t ldy);

// MARK: - Int8 path (activations quantized to 8 bits, as llama.cpp does)
//
// The activation rows are quantized per 32-element block (ggml's quantize_row_q8_0_ref):
//     d = max_t |x[t]| / 127,  q[t] = roundf(x[t] / d) ∈ [−127, 127]  (x[t] · (1/d); q = 0 when d = 0)
// and the products are exact integer dot products of the weight quants with q, scaled per block:
//     y[i, j] = Σ_b ( d_w · d_x · Σ_t qw[t] · qx[t]  +  c_b )
//     c_b = m_w · d_x · Σ_t qx[t]   (Q4_1, qw the unsigned nibble)
//         = −8 · d_w · d_x · Σ_t qx[t]  (Q4_0, qw the unsigned nibble)
//         = 0                       (Q8_0, qw the signed byte)
// The error against the float32 kernels comes from rounding x to q: |x − d·q| ≤ d/2 per element.

/// Quantizes m rows of 32·nb floats (row i at x + i·ldx): qx[i·32·nb + p] the int8 quants,
/// dx[i·nb + b] the block scales d, sx[i·nb + b] = d · Σ_t q[t] (see above).
void attend_quant_activations_q8(ptrdiff_t m, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
                                 int8_t *qx, float *dx, float *sx);

/// The int8 kernel: y[i·ldy + j] for i < m, j < n, from quantized activations (row i's quants at
/// qx + i·32·nb, scales at dx + i·nb and sx + i·nb) and weight rows at (const uint8_t *)w + j·ldw.
typedef void (*attend_quant_dot_q8_fn)(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb,
                                       const int8_t *qx, const float *dx, const float *sx,
                                       const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy);

// MARK: - Int16 path (activations quantized to 16 bits: the accurate fast path)
//
// As the int8 path, with 16-bit activation quants per 32-element block:
//     d = max_t |x[t]| / 32767,  q[t] = roundf(x[t] · (1/d)) ∈ [−32767, 32767]  (q = 0 when d = 0)
// so the rounding |x − d·q| ≤ d/2 is about 1.5e-5 of the block's largest value (256× finer than int8).
// The weight quants (qw and c_b exactly as in the int8 path above) are widened to int16 and the
// products are exact int32 sums (vpdpwssd, or vpmaddwd + vpaddd; |qw| ≤ 128, so a block's sum is at most
// 32·128·32767 < 2³¹), scaled per block:
//     y[i, j] = Σ_b ( d_w · d_x · Σ_t qw[t] · qx[t]  +  c_b ),   c_b uses sx = d_x · Σ_t qx[t]
// The int32 block sum is rounded once to float32; d_w · d_x is one float32 product.

/// Quantizes m rows of 32·nb floats (row i at x + i·ldx) to int16: qx[i·32·nb + p] the quants,
/// dx[i·nb + b] the block scales d, sx[i·nb + b] = d · Σ_t q[t] (see above).
void attend_quant_activations_q16(ptrdiff_t m, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
                                  int16_t *qx, float *dx, float *sx);

/// The int16 kernel: y[i·ldy + j] for i < m, j < n, from 16-bit activations (row i's quants at
/// qx + i·32·nb, scales at dx + i·nb and sx + i·nb) and weight rows at (const uint8_t *)w + j·ldw.
typedef void (*attend_quant_dot_q16_fn)(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb,
                                        const int16_t *qx, const float *dx, const float *sx,
                                        const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy);

/// The plain C twin of every int16 kernel (scalar loops, int32 block sums, float32 as the SIMD kernels
/// round: one conversion of each block's sum, one d_w·d_x product, sums in float32).
void attend_quant_dot_q16_reference(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int16_t *qx,
                                    const float *dx, const float *sx, const void *w, ptrdiff_t ldw,
                                    float *y, ptrdiff_t ldy);

/// One ISA's quantized kernels.
typedef struct {
    attend_isa isa;
    attend_quant_dequant_fn dequant;
    attend_quant_dot_fn dot;
    /// The int8 kernel (AVX-512 VNNI `vpdpbusd`, or AVX2 `vpmaddubsw` + `vpmaddwd`), or NULL when this
    /// ISA has none (generic; AVX-512 without VNNI).
    attend_quant_dot_q8_fn dot_q8;
    /// The int16 kernel: AVX-512 `vpdpwssd` zmm (VNNI) or `vpmaddwd` + `vpaddd` zmm (AVX-512BW), AVX2
    /// `vpdpwssd` ymm (AVX-VNNI) or `vpmaddwd` + `vpaddd` ymm, and the scalar twin on the generic ISA.
    attend_quant_dot_q16_fn dot_q16;
} attend_quant_ukernel;

/// 1 if this CPU and OS can run AVX-512 VNNI code (with AVX-512F/BW/VL), else 0.
int attend_cpu_has_avx512vnni(void);

/// 1 if this CPU and OS can run AVX-512BW code (with AVX-512F/VL), else 0.
int attend_cpu_has_avx512bw(void);

/// 1 if this CPU and OS can run AVX-VNNI code (the VEX-encoded vpdpwssd on ymm, with AVX2), else 0.
int attend_cpu_has_avxvnni(void);

/// One exact kernel variant of `isa` (vnni = 0: without the VNNI instructions, 1: with them), or NULL when
/// this build or CPU cannot run it. Lets tests force every variant in turn; `attend_quant_ukernel_for`
/// picks the VNNI one where the CPU has it.
const attend_quant_ukernel *attend_quant_ukernel_variant(attend_isa isa, int vnni);

/// The kernel set for `isa`, or the generic one when this build or CPU lacks `isa`.
/// Never returns code the running CPU cannot execute.
const attend_quant_ukernel *attend_quant_ukernel_for(attend_isa isa);

#endif
