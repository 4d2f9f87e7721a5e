// AVX-512 SGEMM: a 6×64 micro-kernel (24 zmm accumulators) and its packing routines.
//
// Scalar twin of the micro-kernel (the specification):
//   for i in 0..<6, j in 0..<64: acc[i][j] = Σ_p a[p·6 + i] · b[p·ldb + j]
//   c[i·ldc + j] = alpha · acc[i][j] + (beta == 0 ? 0 : beta · c[i·ldc + j])   (i < mr, j < nr)
#if defined(__x86_64__)
#include <immintrin.h>
#include "sgemm_common.h"
#include "tail_masks.h"

#define T512 __attribute__((target("avx512f,fma")))
#define MR 6
#define NR 64

/// The tile's body: row r of A at a_r[p·ps] (packed: a_r = a + r, ps = MR; in place: a_r = row r, ps = 1).
static inline __attribute__((always_inline)) T512 void kernel_body(
    ptrdiff_t kc, const float *a0, const float *a1, const float *a2, const float *a3, const float *a4,
    const float *a5, ptrdiff_t ps, const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc,
    float alpha, float beta, ptrdiff_t mr, ptrdiff_t nr) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m512 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    __m512 c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    __m512 c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    __m512 c50 = c00, c51 = c00, c52 = c00, c53 = c00;

#define ATTEND_ROW(i)                                   \
    ai = _mm512_set1_ps(a##i[p * ps]);                  \
    c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);         \
    c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);         \
    c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);         \
    c##i##3 = _mm512_fmadd_ps(ai, b3, c##i##3);

    for (ptrdiff_t p = 0; p < kc; ++p) {
        const __m512 b0 = _mm512_loadu_ps(b);
        const __m512 b1 = _mm512_loadu_ps(b + 16);
        const __m512 b2 = _mm512_loadu_ps(b + 32);
        const __m512 b3 = _mm512_loadu_ps(b + 48);
        __m512 ai;
        ATTEND_ROW(0) ATTEND_ROW(1) ATTEND_ROW(2) ATTEND_ROW(3) ATTEND_ROW(4) ATTEND_ROW(5)
        b += ldb;
    }
#undef ATTEND_ROW

    const __m512 va = _mm512_set1_ps(alpha);
    if (mr == MR && nr == NR) {
        if (beta == 0.0f) {
#define ATTEND_STORE(i)                                                   \
    _mm512_storeu_ps(c + (i) * ldc + 0, _mm512_mul_ps(va, c##i##0));     \
    _mm512_storeu_ps(c + (i) * ldc + 16, _mm512_mul_ps(va, c##i##1));    \
    _mm512_storeu_ps(c + (i) * ldc + 32, _mm512_mul_ps(va, c##i##2));    \
    _mm512_storeu_ps(c + (i) * ldc + 48, _mm512_mul_ps(va, c##i##3));
            ATTEND_STORE(0) ATTEND_STORE(1) ATTEND_STORE(2)
            ATTEND_STORE(3) ATTEND_STORE(4) ATTEND_STORE(5)
#undef ATTEND_STORE
        } else {
            const __m512 vb = _mm512_set1_ps(beta);
#define ATTEND_UPDATE1(i, q)                                                               \
    _mm512_storeu_ps(c + (i) * ldc + 16 * q,                                              \
                     _mm512_fmadd_ps(va, c##i##q,                                         \
                                     _mm512_mul_ps(vb, _mm512_loadu_ps(c + (i) * ldc + 16 * q))));
#define ATTEND_UPDATE(i) ATTEND_UPDATE1(i, 0) ATTEND_UPDATE1(i, 1) ATTEND_UPDATE1(i, 2) ATTEND_UPDATE1(i, 3)
            ATTEND_UPDATE(0) ATTEND_UPDATE(1) ATTEND_UPDATE(2)
            ATTEND_UPDATE(3) ATTEND_UPDATE(4) ATTEND_UPDATE(5)
#undef ATTEND_UPDATE
#undef ATTEND_UPDATE1
        }
        return;
    }

    // Edge tile: masked columns, rows below mr skipped. Masked-off lanes are neither read nor written.
    const __mmask16 k0 = attend_mask16(nr), k1 = attend_mask16(nr - 16), k2 = attend_mask16(nr - 32),
                    k3 = attend_mask16(nr - 48);
    const __m512 vb = _mm512_set1_ps(beta);
#define ATTEND_EDGE1(i, q)                                                                   \
    {                                                                                       \
        float *dst = c + (i) * ldc + 16 * q;                                                \
        __m512 v = _mm512_mul_ps(va, c##i##q);                                              \
        if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k##q, dst), v);    \
        _mm512_mask_storeu_ps(dst, k##q, v);                                                \
    }
#define ATTEND_EDGE(i)                                                                       \
    if ((i) < mr) { ATTEND_EDGE1(i, 0) ATTEND_EDGE1(i, 1) ATTEND_EDGE1(i, 2) ATTEND_EDGE1(i, 3) }
    ATTEND_EDGE(0) ATTEND_EDGE(1) ATTEND_EDGE(2) ATTEND_EDGE(3) ATTEND_EDGE(4) ATTEND_EDGE(5)
#undef ATTEND_EDGE
#undef ATTEND_EDGE1
}

ATTEND_SGEMM_KERNELS_6(T512, sgemm_kernel_avx512, sgemm_kernel_direct_a_avx512)

// Index tables that interleave six rows of 16 floats (r0..r5) into 96 floats p-major
// (dst[p·6 + r]). Step 1 zips row pairs: P01 = (r0[p], r1[p]) pairs for p 0..7 ("lo") or 8..15
// ("hi"). Step 2 builds each output vector q (elements e = 16q..16q+15, p = e/6, r = e%6) from
// P01/P23 with one two-source permute, then patches in the P45 elements with a masked permute.
static const int zip_lo[16] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23};
static const int zip_hi[16] = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
static const int out_idx[3][16] = {   // two-source index into (P01, P23)
    {0, 1, 16, 17, 0, 1, 2, 3, 18, 19, 2, 3, 4, 5, 20, 21},
    {4, 5, 6, 7, 22, 23, 6, 7, 8, 9, 24, 25, 8, 9, 10, 11},
    {26, 27, 10, 11, 12, 13, 28, 29, 12, 13, 14, 15, 30, 31, 14, 15},
};
static const int out_idx45[3][16] = { // index into P45
    {0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5},
    {4, 5, 6, 7, 6, 7, 6, 7, 8, 9, 8, 9, 8, 9, 10, 11},
    {10, 11, 10, 11, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15},
};
static const unsigned short out_mask45[3] = {0x0C30, 0x30C3, 0xC30C};  // lanes taken from P45

T512 static void sgemm_pack_a_avx512(int trans_a, const float *a, ptrdiff_t lda, ptrdiff_t mc,
                                     ptrdiff_t kc, float *dst) {
    if (trans_a) {
        // A is stored [k, m]: walk p outermost so each source row is read contiguously once
        // (columns of a large-stride matrix would thrash the L1 sets and the TLB).
        const ptrdiff_t full = mc / MR;
        for (ptrdiff_t p = 0; p < kc; ++p) {
            const float *s = a + p * lda;
            float *d = dst + p * MR;
            for (ptrdiff_t sl = 0; sl < full; ++sl) {  // 6 contiguous floats: 16 + 8 bytes
                _mm_storeu_ps(d, _mm_loadu_ps(s));
                _mm_store_sd((double *)(d + 4), _mm_load_sd((const double *)(s + 4)));
                s += MR;
                d += kc * MR;
            }
        }
        if (full * MR < mc) {
            attend_pack_a_sliver(1, a + full * MR, lda, mc - full * MR, 0, kc, dst + full * kc * MR, MR);
        }
        return;
    }
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        if (rows == MR) {
            const float *r0 = a + i0 * lda;
            const __m512i zl = _mm512_loadu_si512(zip_lo), zh = _mm512_loadu_si512(zip_hi);
            const __m512i o0 = _mm512_loadu_si512(out_idx[0]), o1 = _mm512_loadu_si512(out_idx[1]),
                          o2 = _mm512_loadu_si512(out_idx[2]);
            const __m512i f0 = _mm512_loadu_si512(out_idx45[0]), f1 = _mm512_loadu_si512(out_idx45[1]),
                          f2 = _mm512_loadu_si512(out_idx45[2]);
            const __mmask16 m0 = out_mask45[0], m1 = out_mask45[1], m2 = out_mask45[2];
            ptrdiff_t p = 0;
            for (; p + 16 <= kc; p += 16) {
                const __m512 x0 = _mm512_loadu_ps(r0 + p), x1 = _mm512_loadu_ps(r0 + lda + p);
                const __m512 x2 = _mm512_loadu_ps(r0 + 2 * lda + p), x3 = _mm512_loadu_ps(r0 + 3 * lda + p);
                const __m512 x4 = _mm512_loadu_ps(r0 + 4 * lda + p), x5 = _mm512_loadu_ps(r0 + 5 * lda + p);
                float *d = dst + p * MR;
                {
                    const __m512 p01 = _mm512_permutex2var_ps(x0, zl, x1);
                    const __m512 p23 = _mm512_permutex2var_ps(x2, zl, x3);
                    const __m512 p45 = _mm512_permutex2var_ps(x4, zl, x5);
                    _mm512_storeu_ps(d + 0, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o0, p23), m0, f0, p45));
                    _mm512_storeu_ps(d + 16, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o1, p23), m1, f1, p45));
                    _mm512_storeu_ps(d + 32, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o2, p23), m2, f2, p45));
                }
                {
                    const __m512 p01 = _mm512_permutex2var_ps(x0, zh, x1);
                    const __m512 p23 = _mm512_permutex2var_ps(x2, zh, x3);
                    const __m512 p45 = _mm512_permutex2var_ps(x4, zh, x5);
                    _mm512_storeu_ps(d + 48, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o0, p23), m0, f0, p45));
                    _mm512_storeu_ps(d + 64, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o1, p23), m1, f1, p45));
                    _mm512_storeu_ps(d + 80, _mm512_mask_permutexvar_ps(_mm512_permutex2var_ps(p01, o2, p23), m2, f2, p45));
                }
            }
            attend_pack_a_sliver(0, r0, lda, rows, p, kc, dst, MR);
        } else {
            attend_pack_a_sliver(0, a + i0 * lda, lda, rows, 0, kc, dst, MR);
        }
        dst += kc * MR;
    }
}

/// In-register transpose of a 16×16 block: r[i] (row i) becomes column i.
T512 static inline void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    // r[4g + c], 128-bit lane L: rows 4g..4g+3 of column 4L + c.
    for (int c = 0; c < 4; ++c) {
        const __m512 x0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
        const __m512 x1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
        const __m512 y0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        const __m512 y1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
        t[c] = _mm512_shuffle_f32x4(x0, y0, 0x88);
        t[8 + c] = _mm512_shuffle_f32x4(x0, y0, 0xDD);
        t[4 + c] = _mm512_shuffle_f32x4(x1, y1, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(x1, y1, 0xDD);
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
}

T512 static void sgemm_pack_b_avx512(int trans_b, const float *b, ptrdiff_t ldb, ptrdiff_t kc,
                                     ptrdiff_t nc, float *dst) {
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += NR) {
        const ptrdiff_t cols = nc - j0 < NR ? nc - j0 : NR;
        if (!trans_b) {
            const float *src = b + j0;
            if (cols == NR) {
                for (ptrdiff_t p = 0; p < kc; ++p) {
                    const float *s = src + p * ldb;
                    float *d = dst + p * NR;
                    _mm512_storeu_ps(d, _mm512_loadu_ps(s));
                    _mm512_storeu_ps(d + 16, _mm512_loadu_ps(s + 16));
                    _mm512_storeu_ps(d + 32, _mm512_loadu_ps(s + 32));
                    _mm512_storeu_ps(d + 48, _mm512_loadu_ps(s + 48));
                }
            } else {
                const __mmask16 k0 = attend_mask16(cols), k1 = attend_mask16(cols - 16),
                                k2 = attend_mask16(cols - 32), k3 = attend_mask16(cols - 48);
                for (ptrdiff_t p = 0; p < kc; ++p) {
                    const float *s = src + p * ldb;
                    float *d = dst + p * NR;
                    _mm512_storeu_ps(d, _mm512_maskz_loadu_ps(k0, s));
                    _mm512_storeu_ps(d + 16, _mm512_maskz_loadu_ps(k1, s + 16));
                    _mm512_storeu_ps(d + 32, _mm512_maskz_loadu_ps(k2, s + 32));
                    _mm512_storeu_ps(d + 48, _mm512_maskz_loadu_ps(k3, s + 48));
                }
            }
        } else {
            // B is stored [n, k]: transpose 16×16 blocks (16 columns j × 16 depths p).
            const float *src = b + j0 * ldb;
            for (ptrdiff_t p0 = 0; p0 < kc; p0 += 16) {
                const ptrdiff_t pn = kc - p0 < 16 ? kc - p0 : 16;
                const __mmask16 kp = attend_mask16(pn);
                for (int g = 0; g < 4; ++g) {
                    __m512 r[16];
                    if (pn == 16 && 16 * g + 16 <= cols) {
                        for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + (16 * g + i) * ldb + p0);
                    } else {
                        for (int i = 0; i < 16; ++i) {
                            const ptrdiff_t j = 16 * g + i;
                            r[i] = j < cols ? _mm512_maskz_loadu_ps(kp, src + j * ldb + p0) : _mm512_setzero_ps();
                        }
                    }
                    transpose16(r);
                    float *d = dst + p0 * NR + 16 * g;
                    for (ptrdiff_t i = 0; i < pn; ++i) _mm512_storeu_ps(d + i * NR, r[i]);
                }
            }
        }
        dst += kc * NR;
    }
}

// MARK: - Dot-product GEMM for C = A·Bᵀ with few rows of A
//
// When B is stored [n, k] (PyTorch Linear weights) and M is small, transposing B into packed
// slivers costs more than the multiply. Here both operands are read along k in place: each 4×4
// tile of C keeps 16 accumulators of 16 partial sums, reduced by a shuffle tree at the end.
// Scalar twin: c[i·ldc + j] = alpha · Σ_p a[i·lda + p] · b[j·ldb + p] + (beta == 0 ? 0 : beta · c[i·ldc + j]).

/// Sums of x0..x3 per 128-bit lane group: returns lane L = 4-float partial sums of x_L.
T512 static inline __attribute__((always_inline)) __m512 fold4(__m512 x0, __m512 x1, __m512 x2, __m512 x3) {
    const __m512 t01 = _mm512_add_ps(_mm512_shuffle_f32x4(x0, x1, 0x44), _mm512_shuffle_f32x4(x0, x1, 0xEE));
    const __m512 t23 = _mm512_add_ps(_mm512_shuffle_f32x4(x2, x3, 0x44), _mm512_shuffle_f32x4(x2, x3, 0xEE));
    return _mm512_add_ps(_mm512_shuffle_f32x4(t01, t23, 0x88), _mm512_shuffle_f32x4(t01, t23, 0xDD));
}

T512 static void sgemm_dot_tile(ptrdiff_t k, const float *a0, const float *a1, const float *a2,
                                const float *a3, const float *b0, const float *b1, const float *b2,
                                const float *b3, float *c, ptrdiff_t ldc, float alpha, float beta,
                                ptrdiff_t rows, ptrdiff_t cols) {
    __m512 s00 = _mm512_setzero_ps(), s01 = s00, s02 = s00, s03 = s00;
    __m512 s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    __m512 s20 = s00, s21 = s00, s22 = s00, s23 = s00;
    __m512 s30 = s00, s31 = s00, s32 = s00, s33 = s00;
#define ATTEND_DOT_STEP(LOAD)                                                                   \
    {                                                                                          \
        const __m512 x0 = LOAD(a0), x1 = LOAD(a1), x2 = LOAD(a2), x3 = LOAD(a3);              \
        __m512 y = LOAD(b0);                                                                   \
        s00 = _mm512_fmadd_ps(x0, y, s00); s10 = _mm512_fmadd_ps(x1, y, s10);                  \
        s20 = _mm512_fmadd_ps(x2, y, s20); s30 = _mm512_fmadd_ps(x3, y, s30);                  \
        y = LOAD(b1);                                                                          \
        s01 = _mm512_fmadd_ps(x0, y, s01); s11 = _mm512_fmadd_ps(x1, y, s11);                  \
        s21 = _mm512_fmadd_ps(x2, y, s21); s31 = _mm512_fmadd_ps(x3, y, s31);                  \
        y = LOAD(b2);                                                                          \
        s02 = _mm512_fmadd_ps(x0, y, s02); s12 = _mm512_fmadd_ps(x1, y, s12);                  \
        s22 = _mm512_fmadd_ps(x2, y, s22); s32 = _mm512_fmadd_ps(x3, y, s32);                  \
        y = LOAD(b3);                                                                          \
        s03 = _mm512_fmadd_ps(x0, y, s03); s13 = _mm512_fmadd_ps(x1, y, s13);                  \
        s23 = _mm512_fmadd_ps(x2, y, s23); s33 = _mm512_fmadd_ps(x3, y, s33);                  \
    }
    ptrdiff_t p = 0;
#define ATTEND_LOAD_FULL(ptr) _mm512_loadu_ps((ptr) + p)
    for (; p + 16 <= k; p += 16) ATTEND_DOT_STEP(ATTEND_LOAD_FULL)
    if (p < k) {
        const __mmask16 km = attend_mask16(k - p);
#define ATTEND_LOAD_TAIL(ptr) _mm512_maskz_loadu_ps(km, (ptr) + p)
        ATTEND_DOT_STEP(ATTEND_LOAD_TAIL)
#undef ATTEND_LOAD_TAIL
    }
#undef ATTEND_LOAD_FULL
#undef ATTEND_DOT_STEP
    // Column j's four row accumulators → lane i holds row i's partials for column j.
    const __m512 u0 = fold4(s00, s10, s20, s30), u1 = fold4(s01, s11, s21, s31);
    const __m512 u2 = fold4(s02, s12, s22, s32), u3 = fold4(s03, s13, s23, s33);
    // Finish inside each lane: lane i = [C[i,0], C[i,1], C[i,2], C[i,3]].
    const __m512 v01 = _mm512_add_ps(_mm512_unpacklo_ps(u0, u1), _mm512_unpackhi_ps(u0, u1));
    const __m512 v23 = _mm512_add_ps(_mm512_unpacklo_ps(u2, u3), _mm512_unpackhi_ps(u2, u3));
    __m512 w = _mm512_add_ps(_mm512_shuffle_ps(v01, v23, 0x44), _mm512_shuffle_ps(v01, v23, 0xEE));
    w = _mm512_mul_ps(w, _mm512_set1_ps(alpha));
    float out[16];
    _mm512_storeu_ps(out, w);
    for (ptrdiff_t i = 0; i < rows; ++i) {
        float *row = c + i * ldc;
        if (beta == 0.0f) {
            for (ptrdiff_t j = 0; j < cols; ++j) row[j] = out[4 * i + j];
        } else {
            for (ptrdiff_t j = 0; j < cols; ++j) row[j] = out[4 * i + j] + beta * row[j];
        }
    }
}

T512 static void sgemm_dot_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                                  ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                                  ptrdiff_t ldc) {
    for (ptrdiff_t j0 = 0; j0 < n; j0 += 4) {
        const ptrdiff_t cols = n - j0 < 4 ? n - j0 : 4;
        // Rows past the edge re-read the last valid row; their sums are discarded.
        const float *b0 = b + j0 * ldb;
        const float *b1 = b + (j0 + (cols > 1 ? 1 : 0)) * ldb;
        const float *b2 = b + (j0 + (cols > 2 ? 2 : cols - 1)) * ldb;
        const float *b3 = b + (j0 + (cols > 3 ? 3 : cols - 1)) * ldb;
        for (ptrdiff_t i0 = 0; i0 < m; i0 += 4) {
            const ptrdiff_t rows = m - i0 < 4 ? m - i0 : 4;
            const float *a0 = a + i0 * lda;
            const float *a1 = a + (i0 + (rows > 1 ? 1 : 0)) * lda;
            const float *a2 = a + (i0 + (rows > 2 ? 2 : rows - 1)) * lda;
            const float *a3 = a + (i0 + (rows > 3 ? 3 : rows - 1)) * lda;
            sgemm_dot_tile(k, a0, a1, a2, a3, b0, b1, b2, b3, c + i0 * ldc + j0, ldc, alpha, beta, rows, cols);
        }
    }
}

static const attend_sgemm_ukernel ukernel_avx512 = {
    ATTEND_ISA_AVX512, MR, NR, sgemm_kernel_avx512, sgemm_pack_a_avx512, sgemm_pack_b_avx512,
    sgemm_dot_avx512, sgemm_kernel_direct_a_avx512,
};

const attend_sgemm_ukernel *attend_sgemm_ukernel_avx512(void) { return &ukernel_avx512; }

#else
#include "sgemm_common.h"
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx512(void) { return 0; }
#endif
