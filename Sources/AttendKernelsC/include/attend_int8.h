#ifndef ATTEND_INT8_H
#define ATTEND_INT8_H
#include <stddef.h>
#include <stdint.h>
#include "attend_kernels.h"

// MARK: - Int8 GEMM (`--precision int8`)
//
// C[m, n] = A[m, k] · Wᵀ (+ beta · C), W stored [n, k] (PyTorch Linear layout), computed on int8 values with
// exact int32 sums: weights quantized once per output channel, activations on every call per row and per block of
// KB = 64 consecutive elements along k (like llama.cpp's Q8 activation blocks, an outlier spoils only its own block;
// twice their 32 elements, so the kernels convert and scale each int32 block sum after 16 `vpdpbusd` instead of 8,
// for a minimum cosine to fp32 of 0.9980 / 0.9966 on the MiniLM benchmark sets instead of 0.9987 / 0.9975):
//
//   weights (once):  μ_j = max_p |w[j][p]|,  s_j = μ_j / 127,  wq[j][p] = rne(w[j][p] · (127 / μ_j))
//   activations:     for block b (elements 64b ..< 64b + 64 of row i):
//                    ν = max_{p∈b} |a[i][p]|,  t_{i,b} = ν / 127,  aq[i][p] = rne(a[i][p] · (127 / ν))
//   sum(i, j, b) = Σ_{p∈b} aq[i][p] · wq[j][p]       (int32, exact; |sum| ≤ 64 · 127² < 2²⁴, so (float)sum is exact)
//   acc(i, j) = fma((float)sum(i, j, b), t_{i,b}, acc) over b = 0, 1, … from acc = 0
//   c[i·ldc + j] = acc(i, j) · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
//
// rne is round to nearest, ties to even, then clamped to [−127, 127]; a block (or weight row) of zeros has scale 0
// and quantizes to zeros; NaN and ±Inf are not supported. Every float operation above is one IEEE operation in the
// order written (fma rounds once), and the int32 sums are exact, so every kernel set produces the same bits.
//
// Layouts (uint32 words; a word holds a k-quad of int8: element 4q + e in byte e, elements past k are 0):
//   Packed W (made once): slivers of ATTEND_INT8_NR columns; sliver t holds ⌈k/4⌉·NR words, quad q of column
//     t·NR + c at dst[t·⌈k/4⌉·NR + q·NR + c]; columns past n are 0. Beside it: per column (padded to the slivers)
//     the scale s_j; per sliver, per block b and column c the negated offset correction −o = −128 · Σ_{p∈b} wq[j][p]
//     at offsets[t·nb·NR + b·NR + c], nb = ⌈k/64⌉ (the unsigned-activation kernels start each block's sums there).
//     One layout serves every ISA.
//   Packed A (per call, per ISA): slivers of MR rows; sliver s holds kq·MR words, quad q of row s·MR + r at
//     dst[s·kq·MR + q·MR + r]; rows past mc and elements past k are 0. The bytes are aq (signed), or aq + 128
//     (unsigned, `a_offset` = 1) for kernels that multiply unsigned by signed bytes (`vpdpbusd`): those take o
//     back from each block's sums (by starting them at −o). Beside it the block scales, nb·MR per sliver: t of row s·MR + r, block b at
//     scales[s·nb·MR + b·MR + r] (0 for rows past mc).

/// Elements of k per activation block (a multiple of 4: whole quads).
#define ATTEND_INT8_KB 64
/// Columns per packed-W sliver (every kernel's NR).
#define ATTEND_INT8_NR 64

/// 1 if this CPU and OS can run AVX-512F/BW/VL + AVX512_VNNI code, else 0 (defined with the quantized kernels).
int attend_cpu_has_avx512vnni(void);
/// 1 if this CPU and OS can run the Armv8.2 dot-product instructions (`sdot`), else 0 (gemm_int8_neon.c).
int attend_cpu_has_neon_dotprod(void);
/// 1 if this CPU and OS can run AVX-VNNI code (VEX `vpdpbusd` on ymm, with AVX2), else 0 (also in attend_quant.h).
int attend_cpu_has_avxvnni(void);

/// Quantizes W (n rows of k floats, row stride ldw) and packs it into ⌈n/NR⌉ slivers at `dst`
/// (⌈n/NR⌉·⌈k/4⌉·NR words), its scales at `scales` (⌈n/NR⌉·NR floats) and the blocks' negated offset
/// corrections at `offsets` (⌈n/NR⌉·⌈k/64⌉·NR).
void attend_int8_pack_weight(const float *w, ptrdiff_t ldw, ptrdiff_t n, ptrdiff_t k, uint32_t *dst,
                             float *scales, int32_t *offsets);

/// Quantizes rows [0, mc) of A (row stride lda, k floats each) and packs them into ⌈mc/MR⌉ slivers of
/// kq = ⌈k/4⌉ quads at `dst`, the block scales at `scales` (⌈mc/MR⌉·⌈k/64⌉·MR floats); see the layout above.
typedef void (*attend_int8_pack_a_fn)(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                      float *scales);

/// The micro-kernel, over the quads [0, kq) of one packed A sliver `a` (kq·MR words, block scales `a_scales`:
/// nb·MR floats) and one packed W sliver `w` (kq·NR words, column scales `w_scales`, negated offset corrections
/// `w_offsets`: nb·NR):
///   for i < mr, j < nr: c[i·ldc + j] = acc(i, j) · w_scales[j] + (beta == 0 ? 0 : beta · c[i·ldc + j])
/// with acc the chain above. C outside the mr×nr corner is neither read nor written. Requires 1 ≤ mr ≤ MR,
/// 1 ≤ nr ≤ NR, kq ≥ 1.
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
    /// AVX2: `vpsignb` + `vpmaddubsw` + `vpmaddwd` (llama.cpp's signed-pair trick), 4×16 tiles (what AVX2-only
    /// CPUs such as AMD Zen 3 run).
    ATTEND_INT8_KERNEL_AVX2 = 1,
    /// AVX-512 VNNI: `vpdpbusd` zmm on unsigned-offset activations, 6×32 tiles.
    ATTEND_INT8_KERNEL_AVX512VNNI = 2,
    /// AVX-VNNI: `vpdpbusd` ymm (VEX) on unsigned-offset activations, 6×16 tiles (Intel Alder Lake and later,
    /// AMD Zen 5).
    ATTEND_INT8_KERNEL_AVXVNNI = 3,
    /// NEON dot product (Armv8.2 `sdot`, `vdotq_laneq_s32`) on signed activations, 4×16 tiles (Apple silicon, AWS
    /// Graviton 2 and later, Ampere Altra, Cortex-A76 and later).
    ATTEND_INT8_KERNEL_NEONDOT = 4,
} attend_int8_kernel_kind;

/// The set `kind`, or NULL when this build or CPU cannot run it. All compute the same bits.
const attend_int8_ukernel *attend_int8_ukernel_kind(attend_int8_kernel_kind kind);

/// The fastest set allowed by `isa` on this CPU: for ATTEND_ISA_AVX512 the AVX-512 VNNI set when the CPU has
/// AVX512_VNNI, else what ATTEND_ISA_AVX2 picks; for ATTEND_ISA_AVX2 the AVX-VNNI set when the CPU has AVX-VNNI,
/// else the AVX2 set; for ATTEND_ISA_NEON the dot-product set when the CPU has it; otherwise the portable one.
/// Never returns code the running CPU cannot execute.
const attend_int8_ukernel *attend_int8_ukernel_for(attend_isa isa);

#endif
