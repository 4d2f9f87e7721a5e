// Shared, ISA-neutral pieces of the SGEMM kernels. Every function is `static inline` so that each
// ISA file instantiates it under its own target attribute (a callee without target features may be
// inlined into a caller that has them).
#ifndef ATTEND_SGEMM_COMMON_H
#define ATTEND_SGEMM_COMMON_H
#include "attend_kernels.h"

#define ATTEND_KERNEL_MAX_TILE (8 * 64)

/// Writes an mr×nr corner of a computed tile (row stride `ld` floats) to C with alpha/beta.
static inline void attend_store_tile(const float *tile, ptrdiff_t ld, float *c, ptrdiff_t ldc,
                                     float alpha, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    for (ptrdiff_t i = 0; i < mr; ++i) {
        float *row = c + i * ldc;
        const float *t = tile + i * ld;
        if (beta == 0.0f) {
            for (ptrdiff_t j = 0; j < nr; ++j) row[j] = alpha * t[j];
        } else {
            for (ptrdiff_t j = 0; j < nr; ++j) row[j] = alpha * t[j] + beta * row[j];
        }
    }
}

/// Packs columns [p0, p1) of one MR-row sliver of op(A) that has `rows` valid rows (rest zero).
/// `a` points at op(A)[sliver's first row, 0]; `dst` at the sliver's start (element p at dst + p·MR).
static inline void attend_pack_a_sliver(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t rows,
                                        ptrdiff_t p0, ptrdiff_t p1, float *dst, const int MR) {
    if (trans_a) {
        for (ptrdiff_t p = p0; p < p1; ++p) {
            const float *s = a + p * lda;
            float *d = dst + p * MR;
            ptrdiff_t r = 0;
            for (; r < rows; ++r) d[r] = s[r];
            for (; r < MR; ++r) d[r] = 0.0f;
        }
    } else {
        for (ptrdiff_t r = 0; r < MR; ++r) {
            if (r < rows) {
                const float *s = a + r * lda;
                for (ptrdiff_t p = p0; p < p1; ++p) dst[p * MR + r] = s[p];
            } else {
                for (ptrdiff_t p = p0; p < p1; ++p) dst[p * MR + r] = 0.0f;
            }
        }
    }
}

/// Packs rows [p0, p1) of one NR-column sliver of op(B) that has `cols` valid columns (rest zero).
/// `b` points at op(B)[0, sliver's first column]; `dst` at the sliver's start (row p at dst + p·NR).
static inline void attend_pack_b_sliver(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t cols,
                                        ptrdiff_t p0, ptrdiff_t p1, float *dst, const int NR) {
    if (trans_b) {
        for (ptrdiff_t c = 0; c < NR; ++c) {
            if (c < cols) {
                const float *s = b + c * ldb;
                for (ptrdiff_t p = p0; p < p1; ++p) dst[p * NR + c] = s[p];
            } else {
                for (ptrdiff_t p = p0; p < p1; ++p) dst[p * NR + c] = 0.0f;
            }
        }
    } else {
        for (ptrdiff_t p = p0; p < p1; ++p) {
            const float *s = b + p * ldb;
            float *d = dst + p * NR;
            ptrdiff_t c = 0;
            for (; c < cols; ++c) d[c] = s[c];
            for (; c < NR; ++c) d[c] = 0.0f;
        }
    }
}

/// Packs op(A) (mc×kc) into MR-row slivers, zero-padding the last sliver.
static inline void attend_pack_a_plain(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                                       ptrdiff_t kc, float *dst, const int MR) {
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        const float *src = trans_a ? a + i0 : a + i0 * lda;
        attend_pack_a_sliver(trans_a, src, lda, rows, 0, kc, dst, MR);
        dst += kc * MR;
    }
}

/// Packs op(B) (kc×nc) into NR-column slivers, zero-padding the last sliver.
static inline void attend_pack_b_plain(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                                       ptrdiff_t nc, float *dst, const int NR) {
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += NR) {
        ptrdiff_t cols = nc - j0 < NR ? nc - j0 : NR;
        const float *src = trans_b ? b + j0 * ldb : b + j0;
        attend_pack_b_sliver(trans_b, src, ldb, cols, 0, kc, dst, NR);
        dst += kc * NR;
    }
}

/// Defines the packed micro-kernel `packed` (attend_sgemm_kernel_fn) and the in-place-A one `direct`
/// (attend_sgemm_direct_a_fn) of a 6-row kernel file around its `kernel_body(kc, a0, …, a5, ps, b, ldb, c, ldc,
/// alpha, beta, mr, nr)`, which reads row r of A at a_r[p·ps]: packed, a_r = a + r and ps = 6 (the sliver layout);
/// in place, a_r = a + r·lda and ps = 1, rows past mr reading row mr − 1 again (their sums are never stored). One
/// body, so the two kernels add the same products in the same order: the same bits.
#define ATTEND_SGEMM_KERNELS_6(attr, packed, direct)                                                              \
    attr static void packed(ptrdiff_t kc, const float *restrict a, const float *restrict b, ptrdiff_t ldb,        \
                            float *restrict c, ptrdiff_t ldc, float alpha, float beta, ptrdiff_t mr, ptrdiff_t nr) { \
        kernel_body(kc, a, a + 1, a + 2, a + 3, a + 4, a + 5, 6, b, ldb, c, ldc, alpha, beta, mr, nr);           \
    }                                                                                                              \
    attr static void direct(ptrdiff_t kc, const float *restrict a, ptrdiff_t lda, const float *restrict b,        \
                            ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc, float alpha, float beta, ptrdiff_t mr, \
                            ptrdiff_t nr) {                                                                        \
        const float *row[6];                                                                                       \
        for (int r = 0; r < 6; ++r) row[r] = a + (r < mr ? r : mr - 1) * lda;                                      \
        kernel_body(kc, row[0], row[1], row[2], row[3], row[4], row[5], 1, b, ldb, c, ldc, alpha, beta, mr, nr); \
    }

#endif
