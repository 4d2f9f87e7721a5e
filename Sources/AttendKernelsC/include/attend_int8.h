#ifndef ATTEND_INT8_H
#define ATTEND_INT8_H
#include <stddef.h>
#include <stdint.h>
#include "attend_kernels.h"

// MARK: - Int8 GEMM (`--precision int8`)
//
// C[m, n] = A[m, k] · Wᵀ (+ beta · C), W stored [n, k] (PyTorch Linear layout), computed on int8 values with
// exact int32 sums, weights quantized once per output channel and activations per row on every call:
//
//   weights (once):  μ_j = max_p |w[j][p]|,  s_j = μ_j / 127,  wq[j][p] = rne(w[j][p] · (127 / μ_j))
//   rows (per call): ν_i = max_p |a[i][p]|,  t_i = ν_i / 127,  aq[i][p] = rne(a[i][p] · (127 / ν_i))
//   acc(i, j) = Σ_p aq[i][p] · wq[j][p]        (exact in int32: the offset kernels' sums reach k · 255 · 127, so k ≤ 65,536)
//   c[i·ldc + j] = (float)acc(i, j) · (t_i · s_j) + (beta == 0 ? 0 : beta · c[i·ldc + j])
//
// rne is round to nearest, ties to even, then clamped to [−127, 127]; a row (or weight row) of zeros has scale 0
// and quantizes to zeros; NaN and ±Inf are not supported (the products would be meaningless). Every float
// operation above is one IEEE operation in the order written (no fused multiply-add), and the int32 sums are
// exact, so every kernel set produces the same bits.
//
// Layouts (uint32 words; a word holds a k-quad of int8: element 4q + e in byte e, elements past k are 0):
//   Packed W (made once): slivers of ATTEND_INT8_NR columns; sliver t holds ⌈k/4⌉·NR words, quad q of column
//     t·NR + c at dst[t·⌈k/4⌉·NR + q·NR + c]; columns past n are 0. Beside it, per column (padded to the
//     slivers): the scale s_j and the offset correction o_j = 128 · Σ_p wq[j][p]. One layout serves every ISA.
//   Packed A (per call, per ISA): slivers of MR rows; sliver s holds kq·MR words, quad q of row s·MR + r at
//     dst[s·kq·MR + q·MR + r]; rows past mc and elements past k are 0. The bytes are aq (signed), or aq + 128
//     (unsigned, `a_offset` = 1) for kernels that multiply unsigned by signed bytes (`vpdpbusd`): those subtract
//     o_j from their sums. Beside it, the row scales t_i, MR per sliver (0 for rows past mc).

/// Columns per packed-W sliver (every kernel's NR).
#define ATTEND_INT8_NR 64

/// 1 if this CPU and OS can run AVX-512F/BW/VL + AVX512_VNNI code, else 0 (defined with the quantized kernels).
int attend_cpu_has_avx512vnni(void);

/// Quantizes W (n rows of k floats, row stride ldw) and packs it into ⌈n/NR⌉ slivers at `dst`
/// (⌈n/NR⌉·⌈k/4⌉·NR words), its scales at `scales` and offset corrections at `offsets` (⌈n/NR⌉·NR each).
void attend_int8_pack_weight(const float *w, ptrdiff_t ldw, ptrdiff_t n, ptrdiff_t k, uint32_t *dst,
                             float *scales, int32_t *offsets);

/// Quantizes rows [0, mc) of A (row stride lda, k floats each) and packs them into ⌈mc/MR⌉ slivers of
/// kq = ⌈k/4⌉ quads at `dst`, the row scales at `scales` (⌈mc/MR⌉·MR floats); see the layout above.
typedef void (*attend_int8_pack_a_fn)(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                      float *scales);

/// The micro-kernel, over quads [0, kq) of one packed A sliver `a` (kq·MR words, row scales `a_scales`) and
/// one packed W sliver `w` (kq·NR words, column scales `w_scales` and corrections `w_offsets`):
///   for i < mr, j < nr: c[i·ldc + j] = (float)acc(i, j) · (a_scales[i] · w_scales[j]) + (beta == 0 ? 0 : beta · c[i·ldc + j])
/// C outside the mr×nr corner is neither read nor written. Requires 1 ≤ mr ≤ MR, 1 ≤ nr ≤ NR, kq ≥ 1.
typedef void (*attend_int8_kernel_fn)(ptrdiff_t kq, const uint32_t *a, const float *a_scales, const uint32_t *w,
                                      const float *w_scales, const int32_t *w_offsets, float *c, ptrdiff_t ldc,
                                      float beta, ptrdiff_t mr, ptrdiff_t nr);

/// One int8 kernel set: rows per A sliver, its A packing and micro-kernel.
typedef struct {
    int mr;
    int nr;
    attend_int8_kernel_fn kernel;
    attend_int8_pack_a_fn pack_a;
    /// 1: packed A holds aq + 128 (unsigned); 0: aq (signed).
    int a_offset;
} attend_int8_ukernel;

/// The kernel sets, for choosing one explicitly (tests, benchmarks).
typedef enum {
    /// Portable C (every CPU).
    ATTEND_INT8_KERNEL_PORTABLE = 0,
    /// AVX2: `vpsignb` + `vpmaddubsw` + `vpmaddwd` (llama.cpp's signed-pair trick).
    ATTEND_INT8_KERNEL_AVX2 = 1,
    /// AVX-512 VNNI: `vpdpbusd` on unsigned-offset activations.
    ATTEND_INT8_KERNEL_AVX512VNNI = 2,
} attend_int8_kernel_kind;

/// The set `kind`, or NULL when this build or CPU cannot run it. All compute the same bits.
const attend_int8_ukernel *attend_int8_ukernel_kind(attend_int8_kernel_kind kind);

/// The fastest set allowed by `isa` on this CPU: for ATTEND_ISA_AVX512 the VNNI set when the CPU has
/// AVX512_VNNI, else the AVX2 set; for ATTEND_ISA_AVX2 the AVX2 set; otherwise the portable one. Never returns
/// code the running CPU cannot execute.
const attend_int8_ukernel *attend_int8_ukernel_for(attend_isa isa);

#endif
