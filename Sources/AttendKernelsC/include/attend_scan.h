#ifndef ATTEND_SCAN_H
#define ATTEND_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include "attend_kernels.h"

// MARK: - Exact search: inner products of float32 queries with stored rows, and their top-k
//
// Stored rows (a corpus index's vectors, read in place from the mapped file): `n` rows of `d`
// elements, row r starting at element r·ldx, stored as
//   ATTEND_SCAN_F32   float32                 x(r, j) = x[r·ldx + j]
//   ATTEND_SCAN_F16   IEEE binary16 bits      x(r, j) = half(x[r·ldx + j])   (widening is exact)
//   ATTEND_SCAN_I8    int8 with a row scale   x(r, j) = scale[r] · x[r·ldx + j]
// Queries: `nq` float32 rows of `d` elements, query i at q + i·ldq.
//
// Score kernels (one per ISA, single-threaded), for i < nq, r < rows:
//   F16:  s[i·lds + r] = Σ_{j<d} half(x[r·ldx + j]) · q[i·ldq + j]
//   I8:   s[i·lds + r] = scale[r] · Σ_{j<d} float(x[r·ldx + j]) · q[i·ldq + j]
// in float32. The plain twin (scan_generic.c) keeps one sum in j order; the SIMD kernels widen the
// stored elements in registers (vcvtph2ps / vcvt_f32_f16; vpmovsxbd + vcvtdq2ps / vmovl + vcvtq),
// fused-multiply-add them into one vector partial sum per (query, row) pair and add the lanes at the
// end (elements past the last full vector are added in order after that), so they differ from the
// twin by the float32 rounding of the sums only. Tiles of up to 4 queries × 4 rows (AVX-512: 16
// pairs; AVX2 and NEON: 8) share each widened row among the queries; one query runs 16 (8) rows at
// once so that its sums are independent chains. F32 rows run on the GEMM's A·Bᵀ dot kernel
// (attend_sgemm_ukernel.dot) where the ISA has one, else attend_sgemm_small.
//
// Top-k: a hit (score, row) is better than another when its score is higher, or equal with a lower
// row; a NaN score counts as −∞. attend_scan_topk returns, per query, the min(k, n) best rows in
// that order, best first: the same rows and order whatever the thread count or chunking, because
// the order is total. Rows are cut into chunks of a few hundred rows (≈ 256 KB of stored elements),
// which the pool's threads claim from a shared counter; each thread keeps one bounded min-heap of k
// hits per query (a new score costs one compare with the heap's worst unless it enters), and the
// heaps are merged at the end. No score array of n floats is ever made or sorted.

#pragma clang assume_nonnull begin

/// How the stored rows are encoded (see above).
enum {
    ATTEND_SCAN_F32 = 0,
    ATTEND_SCAN_F16 = 1,
    ATTEND_SCAN_I8 = 2,
};

/// s[i·lds + r] for i < nq, r < rows from float16 rows (see above).
typedef void (*attend_scan_f16_fn)(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q,
                                   ptrdiff_t ldq, const uint16_t *x, ptrdiff_t ldx, float *s,
                                   ptrdiff_t lds);
/// s[i·lds + r] for i < nq, r < rows from int8 rows and their scales (scale[r] for row r).
typedef void (*attend_scan_i8_fn)(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q,
                                  ptrdiff_t ldq, const int8_t *x, ptrdiff_t ldx,
                                  const float *scale, float *s, ptrdiff_t lds);

/// One ISA's score kernels. Every field is set.
typedef struct {
    attend_isa isa;
    attend_scan_f16_fn f16;
    attend_scan_i8_fn i8;
} attend_scan_ukernel;

/// The score kernels for `isa`, or the generic ones when this build or CPU lacks `isa` (the AVX2
/// kernels also need F16C). Never returns code the running CPU cannot execute.
const attend_scan_ukernel *attend_scan_ukernel_for(attend_isa isa);

/// Scores of `rows` stored rows (any storage; `scale` is read for ATTEND_SCAN_I8 only) against nq
/// queries on `isa`'s kernels, single-threaded: s[i·lds + r] as above. Returns 0, or −1 for an
/// unknown storage.
int attend_scan_scores(attend_isa isa, int storage, ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d,
                       const float *q, ptrdiff_t ldq, const void *x, ptrdiff_t ldx,
                       const float *_Nullable scale, float *s, ptrdiff_t lds);

/// One search result.
typedef struct {
    float score;
    int64_t row;
} attend_scan_hit;

/// The exact top-k of each of nq queries over n stored rows (see above), on up to `threads` threads
/// of the pool and `isa`'s kernels: query i's min(k, n) best hits, best first, at out + i·min(k, n).
/// Returns min(k, n), or −1 when an argument is out of range (k < 1, d < 1, unknown storage) or the
/// working memory (threads · nq · k hits plus a chunk of scores per thread) cannot be allocated.
ptrdiff_t attend_scan_topk(attend_isa isa, ptrdiff_t threads, int storage, const void *x,
                           ptrdiff_t ldx, const float *_Nullable scale, ptrdiff_t n, ptrdiff_t d,
                           const float *q, ptrdiff_t ldq, ptrdiff_t nq, ptrdiff_t k,
                           attend_scan_hit *out);

#pragma clang assume_nonnull end

#endif
