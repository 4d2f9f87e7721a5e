// AVX-512 VNNI int8 GEMM: a 6×32 micro-kernel on `vpdpbusd` (12 zmm int32 block sums, each instruction 64
// unsigned-by-signed byte multiply-adds, and 12 float accumulators), swept twice over the 64-column sliver, and the
// per-call quantizing A packing.
//
// Scalar twin of the micro-kernel (the specification; see attend_int8.h). Packed A holds aq + 128, so a block's sum
//   sum'(i, j, b) = Σ_{p∈b} (aq[i][p] + 128) · wq[j][p] = sum(i, j, b) + o_{j,b},   o_{j,b} = 128 · Σ_{p∈b} wq[j][p]
// and the packed weight stores −o_{j,b}, so each block's int32 sums start at −o_{j,b} (a load, no extra arithmetic)
// and end at sum(i, j, b) exactly:
//   acc = fma((float)sum(i, j, b), t_{i,b}, acc) over the blocks;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
// which is the portable kernel's value bit for bit (the int32 sums are exact). Per block and accumulator that is 8
// `vpdpbusd` and 2 other vector operations (convert, FMA).
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "attend_int8.h"

#define TVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MR 6
#define NR ATTEND_INT8_NR
#define KB ATTEND_INT8_KB
#define QB (KB / 4)  // quads per block

/// Lanes [0, n) of a 16-lane mask (n clamped to 0…16).
TVNNI static inline __attribute__((always_inline)) __mmask16 mask_upto(ptrdiff_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/// The tile for a fixed row count (a compile-time constant after inlining, so that every loop over rows unrolls and
/// the accumulators live in registers), over columns [j0, j0 + 32) of the sliver.
TVNNI static inline __attribute__((always_inline)) void
int8_tile(const int rows, ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
          const uint32_t *restrict w, const float *restrict w_scales, const int32_t *restrict w_offsets,
          float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t j0, ptrdiff_t nr) {
    __m512 acc[MR][2];
    for (int i = 0; i < rows; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
        // The block sums start at −o_{j,b} (stored negated), so they end at the signed sums.
        const __m512i o0 = _mm512_loadu_si512(w_offsets + b * NR + j0);
        const __m512i o1 = _mm512_loadu_si512(w_offsets + b * NR + j0 + 16);
        __m512i sum[MR][2];
        for (int i = 0; i < rows; ++i) {
            sum[i][0] = o0;
            sum[i][1] = o1;
        }
        const ptrdiff_t q1 = q0 + QB < kq ? q0 + QB : kq;
        for (ptrdiff_t q = q0; q < q1; ++q) {
            const __m512i w0 = _mm512_loadu_si512(w + q * NR + j0);
            const __m512i w1 = _mm512_loadu_si512(w + q * NR + j0 + 16);
            for (int i = 0; i < rows; ++i) {
                const __m512i ai = _mm512_set1_epi32((int)a[q * MR + i]);
                sum[i][0] = _mm512_dpbusd_epi32(sum[i][0], ai, w0);
                sum[i][1] = _mm512_dpbusd_epi32(sum[i][1], ai, w1);
            }
        }
        for (int i = 0; i < rows; ++i) {
            const __m512 t = _mm512_set1_ps(a_scales[b * MR + i]);
            acc[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[i][0]), t, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[i][1]), t, acc[i][1]);
        }
    }
    const __m512 vbeta = _mm512_set1_ps(beta);
    for (int v = 0; v < 2; ++v) {
        const __mmask16 m = mask_upto(nr - j0 - 16 * v);
        if (!m) break;
        const __m512 ws = _mm512_maskz_loadu_ps(m, w_scales + j0 + 16 * v);
        for (int i = 0; i < rows; ++i) {
            __m512 value = _mm512_mul_ps(acc[i][v], ws);
            float *out = c + i * ldc + j0 + 16 * v;
            if (beta != 0.0f) value = _mm512_add_ps(value, _mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m, out)));
            _mm512_mask_storeu_ps(out, m, value);
        }
    }
}

TVNNI static void int8_kernel_avx512vnni(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                         const uint32_t *restrict w, const float *restrict w_scales,
                                         const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc,
                                         float beta, ptrdiff_t mr, ptrdiff_t nr) {
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += 32) {
        switch (mr) {
        case 6: int8_tile(6, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 5: int8_tile(5, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 4: int8_tile(4, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 3: int8_tile(3, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 2: int8_tile(2, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        default: int8_tile(1, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        }
    }
}

/// The maxima of 16 vectors: lane b of the result is max over the 16 lanes of m[b] (a transposing tree of
/// shuffles, 46 operations instead of 16 horizontal reductions; max is exact, so the order does not matter).
TVNNI static inline __attribute__((always_inline)) __m512 max16(const __m512 m[16]) {
    __m512 r[8], s[4], u[2];
    // 16 → 8: 128-bit chunks 0,1 of r[i] reduce m[2i], chunks 2,3 reduce m[2i + 1].
    for (int i = 0; i < 8; ++i)
        r[i] = _mm512_max_ps(_mm512_shuffle_f32x4(m[2 * i], m[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(m[2 * i], m[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    // 8 → 4: chunk c of s[i] reduces m[4i + c] (four lanes left each).
    for (int i = 0; i < 4; ++i)
        s[i] = _mm512_max_ps(_mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(r[2 * i], r[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    // Within chunks: lane 4c + e of v ends as the max of m[4e + c].
    for (int i = 0; i < 2; ++i)
        u[i] = _mm512_max_ps(_mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512 v = _mm512_max_ps(_mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                   _mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, v);
}

/// Blocks [b0, b0 + nbc) (nbc ≤ 16) of one row: their scales t = ν / 127 at scales[b·MR] and 127 / ν (0 for an
/// all-zero block) at inv[b − b0].
TVNNI static inline __attribute__((always_inline)) void
block_scales(const float *row, ptrdiff_t k, ptrdiff_t b0, int nbc, float *scales, float *inv) {
    __m512 m[16];
    for (int b = 0; b < 16; ++b) {
        if (b < nbc) {
            const ptrdiff_t p0 = (b0 + b) * KB;
            __m512 mb = _mm512_setzero_ps();
            for (int v = 0; v < KB / 16; ++v)
                mb = _mm512_max_ps(mb, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask_upto(k - p0 - 16 * v), row + p0 + 16 * v)));
            m[b] = mb;
        } else {
            m[b] = _mm512_setzero_ps();
        }
    }
    const __m512 nu = max16(m), c127 = _mm512_set1_ps(127.0f);
    _mm512_storeu_ps(inv, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(nu, _mm512_setzero_ps(), _CMP_GT_OQ), c127, nu));
    float t[16];
    _mm512_storeu_ps(t, _mm512_div_ps(nu, c127));
    for (int b = 0; b < nbc; ++b) scales[(b0 + b) * MR] = t[b];
}

/// The 32 elements [p0, p0 + 32) of one row as bytes aq + 128: rne(x · inv) by `vcvtps2dq` (default rounding mode),
/// clamped to ±127 (saturating narrow, then max with −127), offset by 128. Elements past k give 128.
TVNNI static inline __attribute__((always_inline)) __m256i quantize_block(const float *row, ptrdiff_t k, ptrdiff_t p0,
                                                                          float inv) {
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512 x0 = _mm512_maskz_loadu_ps(mask_upto(k - p0), row + p0);
    const __m512 x1 = _mm512_maskz_loadu_ps(mask_upto(k - p0 - 16), row + p0 + 16);
    const __m128i q0 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x0, vinv)));
    const __m128i q1 = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(x1, vinv)));
    const __m256i q = _mm256_max_epi8(_mm256_set_m128i(q1, q0), _mm256_set1_epi8(-127));
    return _mm256_xor_si256(q, _mm256_set1_epi8((char)0x80));
}

// Interleaving 8 quads (32 elements) of the 6 rows (row pairs 01, 23, 45 in three zmm, 8 words per row) into the
// sliver order, word 6q + r of the block = quad q of row r: per output vector one two-source permute (rows 0–3) and
// one masked permute (rows 4, 5).
#define W(q, r) ((r) < 4 ? ((r) / 2) * 16 + ((r) % 2) * 8 + (q) : ((r) % 2) * 8 + (q))
#define L(o) W((o) / 6, (o) % 6)
#define V(v) L(16 * (v) + 0), L(16 * (v) + 1), L(16 * (v) + 2), L(16 * (v) + 3), L(16 * (v) + 4), L(16 * (v) + 5), \
    L(16 * (v) + 6), L(16 * (v) + 7), L(16 * (v) + 8), L(16 * (v) + 9), L(16 * (v) + 10), L(16 * (v) + 11), \
    L(16 * (v) + 12), L(16 * (v) + 13), L(16 * (v) + 14), L(16 * (v) + 15)
static const int32_t interleave_index[3][16] __attribute__((aligned(64))) = {{V(0)}, {V(1)}, {V(2)}};
#undef V
#undef L
#undef W
TVNNI static void int8_pack_a_avx512vnni(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                         float *scales) {
    const ptrdiff_t kq = (k + 3) / 4, nb = (k + KB - 1) / KB;
    __m512i index[3];
    __mmask16 rows45[3];  // lanes of each output vector that come from rows 4 and 5
    for (int v = 0; v < 3; ++v) {
        index[v] = _mm512_load_si512(interleave_index[v]);
        __mmask16 mask = 0;
        for (int l = 0; l < 16; ++l) mask |= (__mmask16)(((16 * v + l) % 6 >= 4) << l);
        rows45[v] = mask;
    }
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        const ptrdiff_t rows = mc - i0 < MR ? mc - i0 : MR;
        const float *row[MR];
        for (ptrdiff_t r = 0; r < MR; ++r) row[r] = a + (i0 + (r < rows ? r : 0)) * lda;
        for (ptrdiff_t b0 = 0; b0 < nb; b0 += 16) {
            const int nbc = nb - b0 < 16 ? (int)(nb - b0) : 16;
            float inv[MR][16];
            for (ptrdiff_t r = 0; r < MR; ++r) {
                if (r < rows) {
                    block_scales(row[r], k, b0, nbc, scales + r, inv[r]);
                } else {
                    for (int b = 0; b < nbc; ++b) scales[(b0 + b) * MR + r] = 0.0f;
                }
            }
            // 32 elements (8 quads) of the 6 rows at a time, whatever the block size.
            const ptrdiff_t p_end = (b0 + nbc) * KB < k ? (b0 + nbc) * KB : k;
            for (ptrdiff_t p0 = b0 * KB; p0 < p_end; p0 += 32) {
                const int b = (int)(p0 / KB - b0);
                const ptrdiff_t q0 = p0 / 4;
                __m256i bytes[MR];
                for (ptrdiff_t r = 0; r < MR; ++r)
                    bytes[r] = r < rows ? quantize_block(row[r], k, p0, inv[r][b]) : _mm256_set1_epi8((char)0x80);
                const __m512i r01 = _mm512_inserti64x4(_mm512_castsi256_si512(bytes[0]), bytes[1], 1);
                const __m512i r23 = _mm512_inserti64x4(_mm512_castsi256_si512(bytes[2]), bytes[3], 1);
                const __m512i r45 = _mm512_inserti64x4(_mm512_castsi256_si512(bytes[4]), bytes[5], 1);
                const ptrdiff_t words = (kq - q0 < 8 ? kq - q0 : 8) * MR;
                for (int v = 0; v < 3; ++v) {
                    __m512i out = _mm512_permutex2var_epi32(r01, index[v], r23);
                    out = _mm512_mask_permutexvar_epi32(out, rows45[v], index[v], r45);
                    _mm512_mask_storeu_epi32(dst + q0 * MR + 16 * v, mask_upto(words - 16 * v), out);
                }
            }
        }
        dst += kq * MR;
        scales += nb * MR;
    }
}

static const attend_int8_ukernel int8_ukernel_avx512vnni = {MR, NR, int8_kernel_avx512vnni, int8_pack_a_avx512vnni, 1};

const attend_int8_ukernel *attend_int8_ukernel_avx512vnni(void) { return &int8_ukernel_avx512vnni; }

#else
#include "attend_int8.h"
const attend_int8_ukernel *attend_int8_ukernel_avx512vnni(void) { return 0; }
#endif
