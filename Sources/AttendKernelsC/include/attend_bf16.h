#ifndef ATTEND_BF16_H
#define ATTEND_BF16_H
#include <stddef.h>
#include <stdint.h>
#include "attend_kernels.h"

// MARK: - BF16-weights GEMM
//
// C[m, n] = A[m, k] · Wᵀ (+ beta · C), W stored [n, k] (PyTorch Linear layout), with every element
// of A and W rounded to bfloat16 and the products accumulated in float32:
//
//     c[i·ldc + j] = acc(i, j) + (beta == 0 ? 0 : beta · c[i·ldc + j])
//     acc(i, j)   = the float32 chain over pairs q = 0 ..< ⌈k/2⌉, starting at 0:
//                       acc = (acc + a[i][2q+1]·w[j][2q+1]) + a[i][2q]·w[j][2q]
//                   (each product is exact in float32; elements past k are 0).
//
// This chain is what one lane of AVX-512 BF16 `vdpbf16ps` computes (odd element of the pair first,
// then even, rounding to nearest after each add; checked on Zen 4), so the portable kernel and the
// AVX-512 kernel produce the same bits whenever no intermediate is subnormal (the instruction
// flushes those to zero).
//
// Rounding float32 → bf16 (`attend_bf16_round`): round to nearest, ties to even; ±Inf stay ±Inf,
// finite values past the bf16 range round to ±Inf; a NaN stays a NaN (quietened, sign and top payload
// kept); float32 subnormals become ±0, as `vdpbf16ps` and `vcvtne2ps2bf16` treat them (DAZ).
//
// Layouts (uint32 words; a word holds a k-pair of bf16: element 2q in the low half, 2q+1 in the high):
//   Packed W (made once): slivers of ATTEND_BF16_NR columns; sliver t holds ⌈k/2⌉·NR words,
//     pair q of column t·NR + c at dst[t·⌈k/2⌉·NR + q·NR + c]. Columns past n and the high half of
//     the last pair when k is odd are 0. The same layout serves every ISA.
//   Packed A (per call, per ISA): slivers of MR rows; sliver s holds kp·MR words,
//     pair q of row s·MR + r at dst[s·kp·MR + q·MR + r]. Rows past mc and the odd tail are 0.
//   Widened packed A (the AVX-512F and AVX2 widening kernels, `a_widened` = 1): the same values
//     as float32 (bf16 bits << 16), two words per row and pair; sliver s holds kp·2·MR words,
//     the odd element of pair q of row s·MR + r at dst[s·kp·2·MR + q·2·MR + r] and the even one
//     at dst[s·kp·2·MR + q·2·MR + MR + r].

/// Columns per packed-W sliver (every kernel's NR).
#define ATTEND_BF16_NR 64

/// 1 if this CPU and OS can run AVX-512F/BW/VL + AVX512_BF16 code, else 0.
int attend_cpu_has_avx512bf16(void);

/// float32 → bf16 bits, round to nearest even (see the rounding rules above).
uint16_t attend_bf16_round(float x);

/// bf16 bits → float32 (exact).
float attend_bf16_widen(uint16_t h);

/// Packs W (n rows of k floats, row stride ldw) into ⌈n/NR⌉ slivers at `dst`
/// (⌈n/NR⌉·⌈k/2⌉·NR words; see the layout above).
void attend_bf16_pack_weight(const float *w, ptrdiff_t ldw, ptrdiff_t n, ptrdiff_t k, uint32_t *dst);

/// Rounds rows [0, mc) of A (row stride lda, k floats each) to bf16 and packs them into ⌈mc/MR⌉
/// slivers of kp = ⌈k/2⌉ pairs at `dst` (see the layout above).
typedef void (*attend_bf16_pack_a_fn)(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k,
                                      uint32_t *dst);

/// The micro-kernel, over pairs [0, kp) of one packed A sliver `a` (kp·MR words) and one packed
/// W sliver `w` (kp·NR words, possibly a k-slice of a deeper sliver: row q at w + q·NR):
///   for i < mr, j < nr: c[i·ldc + j] = acc(i, j) + (beta == 0 ? 0 : beta · c[i·ldc + j])
/// with acc the chain above (beta · c rounded before the add). C outside the mr×nr corner is
/// neither read nor written. Requires 1 ≤ mr ≤ MR, 1 ≤ nr ≤ NR, kp ≥ 1.
typedef void (*attend_bf16_kernel_fn)(ptrdiff_t kp, const uint32_t *a, const uint32_t *w, float *c,
                                      ptrdiff_t ldc, float beta, ptrdiff_t mr, ptrdiff_t nr);

/// One BF16 kernel set: rows per A sliver, its A packing and micro-kernel.
typedef struct {
    /// 1 for the AVX-512 BF16 kernel, 0 for the others.
    int native;
    int mr;
    int nr;
    attend_bf16_kernel_fn kernel;
    attend_bf16_pack_a_fn pack_a;
    /// 0: packed A holds pair words (kp·MR words per sliver); 1: widened floats (kp·2·MR words
    /// per sliver; see the layouts above).
    int a_widened;
} attend_bf16_ukernel;

/// The kernel sets, for choosing one explicitly (tests, benchmarks).
typedef enum {
    /// Portable C (every CPU).
    ATTEND_BF16_KERNEL_PORTABLE = 0,
    /// AVX2 + FMA, bf16 widened to float32 in registers.
    ATTEND_BF16_KERNEL_AVX2 = 1,
    /// AVX-512F, bf16 widened to float32 in registers.
    ATTEND_BF16_KERNEL_AVX512F = 2,
    /// AVX-512 BF16 (`vdpbf16ps`).
    ATTEND_BF16_KERNEL_AVX512BF16 = 3,
} attend_bf16_kernel_kind;

/// The set `kind`, or NULL when this build or CPU cannot run it. All four compute the same bits
/// (the chain above), whichever runs.
const attend_bf16_ukernel *attend_bf16_ukernel_kind(attend_bf16_kernel_kind kind);

/// The fastest set allowed by `isa` on this CPU: for ATTEND_ISA_AVX512 the AVX-512 BF16 set when
/// the CPU has AVX512_BF16, else the AVX-512F widening set; for ATTEND_ISA_AVX2 (or AVX-512 without
/// the AVX-512F set in this build) the AVX2 widening set; otherwise the portable one. Never returns
/// code the running CPU cannot execute.
const attend_bf16_ukernel *attend_bf16_ukernel_for(attend_isa isa);

#endif
