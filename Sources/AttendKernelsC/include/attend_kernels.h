#ifndef ATTEND_KERNELS_H
#define ATTEND_KERNELS_H
#include <stddef.h>

/// Instruction-set levels the micro-kernels are compiled for, picked once at run time.
typedef enum {
    ATTEND_ISA_GENERIC = 0,
    ATTEND_ISA_AVX2 = 1,
    ATTEND_ISA_AVX512 = 2,
    ATTEND_ISA_NEON = 3,
} attend_isa;

/// The best ISA this CPU supports.
attend_isa attend_detect_isa(void);

/// 1 if this CPU (and OS) can run code compiled for `isa`, else 0. Generic is always supported.
int attend_isa_supported(attend_isa isa);

// MARK: - Single-precision GEMM building blocks
//
// Layouts (all row-major, `ptrdiff_t` strides counted in floats):
//   op(A)[i, p] = trans_a ? a[p * lda + i] : a[i * lda + p]
//   op(B)[p, j] = trans_b ? b[j * ldb + p] : b[p * ldb + j]
// Packed A: the rows of an mc×kc block in slivers of MR rows; sliver s holds kc·MR floats,
//   element (s·MR + r, p) at dst[s·kc·MR + p·MR + r]; rows past mc are zero.
// Packed B: the columns of a kc×nc block in slivers of NR columns; sliver t holds kc·NR floats,
//   element (p, t·NR + c) at dst[t·kc·NR + p·NR + c]; columns past nc are zero.

/// The micro-kernel: C[0..<mr, 0..<nr] = alpha · Ap·Bp + beta · C (beta == 0: C is not read).
/// `a` is one packed A sliver (kc·MR floats). `b` is a B sliver whose row p starts at b + p·ldb
/// and holds NR readable floats (ldb = NR for a packed sliver). Requires 1 ≤ mr ≤ MR, 1 ≤ nr ≤ NR.
typedef void (*attend_sgemm_kernel_fn)(ptrdiff_t kc, const float *a, const float *b, ptrdiff_t ldb,
                                       float *c, ptrdiff_t ldc, float alpha, float beta,
                                       ptrdiff_t mr, ptrdiff_t nr);
/// Packs the mc×kc block of op(A) whose top-left element is at `a` (see the layout above).
typedef void (*attend_sgemm_pack_a_fn)(int trans_a, const float *a, ptrdiff_t lda,
                                       ptrdiff_t mc, ptrdiff_t kc, float *dst);
/// Packs the kc×nc block of op(B) whose top-left element is at `b` (see the layout above).
typedef void (*attend_sgemm_pack_b_fn)(int trans_b, const float *b, ptrdiff_t ldb,
                                       ptrdiff_t kc, ptrdiff_t nc, float *dst);

/// C[m×n] = alpha · A·Bᵀ + beta · C (beta == 0: C is not read) with A stored [m, k] and B stored
/// [n, k], both read in place along k: the small-M path for PyTorch-layout weights.
typedef void (*attend_sgemm_dot_fn)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                    const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                    float beta, float *c, ptrdiff_t ldc);

/// The micro-kernel with A read in place: row r (< mr) of the tile's A at a + r·lda, element p at row[p]; otherwise
/// as attend_sgemm_kernel_fn.
typedef void (*attend_sgemm_direct_a_fn)(ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                                         float *c, ptrdiff_t ldc, float alpha, float beta, ptrdiff_t mr,
                                         ptrdiff_t nr);

/// One ISA's micro-kernel, its register-tile shape and its packing routines.
typedef struct {
    attend_isa isa;
    int mr;
    int nr;
    attend_sgemm_kernel_fn kernel;
    attend_sgemm_pack_a_fn pack_a;
    attend_sgemm_pack_b_fn pack_b;
    /// The A·Bᵀ dot-product kernel, or NULL when this ISA has none (use packing instead).
    attend_sgemm_dot_fn dot;
    /// The micro-kernel reading A in place (no packing of A), or NULL when this ISA has none.
    attend_sgemm_direct_a_fn direct_a;
} attend_sgemm_ukernel;

/// The micro-kernel set for `isa`, or the generic one when this build or CPU lacks `isa`.
/// Never returns code the running CPU cannot execute.
const attend_sgemm_ukernel *attend_sgemm_ukernel_for(attend_isa isa);

/// Unblocked GEMM for tiny problems (plain C, float accumulation):
/// C = alpha · op(A)·op(B) + beta · C, with beta == 0 meaning C is not read.
void attend_sgemm_small(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                        const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                        float beta, float *c, ptrdiff_t ldc);

/// A task of a parallel job: `worker` runs from 0 to width − 1.
typedef void (*attend_task_fn)(void *ctx, ptrdiff_t worker);

/// Runs fn(ctx, t) for every t in 0..<width and returns when all have finished: task 0 on the
/// calling thread, the others on a persistent pool of worker threads (spinning ~0.1 ms after each
/// job, then sleeping). One job runs at a time; a caller that finds the pool busy, or asks for more
/// tasks than it has threads, runs the remaining tasks itself.
void attend_parallel_run(ptrdiff_t width, attend_task_fn fn, void *ctx);

/// Atomically adds `v` to `*counter` and returns the previous value (relaxed ordering): the
/// work counter threads use to claim GEMM blocks dynamically.
ptrdiff_t attend_fetch_add(ptrdiff_t *counter, ptrdiff_t v);

/// With glibc: serves blocks below 32 MiB from the heap instead of fresh `mmap` pages and keeps up to 256 MiB of
/// freed heap for reuse (mallopt M_MMAP_THRESHOLD, M_TRIM_THRESHOLD), with one arena for all threads
/// (M_ARENA_MAX), so a model's large intermediate tensors stop paying page faults and the kernel's zeroing of new
/// pages on every call, on any thread. Call it before starting threads. Returns 1 when applied, 0 elsewhere.
int attend_keep_freed_memory(void);

#endif
