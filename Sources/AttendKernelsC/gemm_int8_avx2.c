// int8 GEMM on 256-bit vectors: two kernel sets that share the tile's store and the quantizing A packing.
//
// - AVX2 (every AVX2 CPU, e.g. AMD Zen 3): llama.cpp's signed-pair trick on signed activations aq,
//     vpabsb(w) = |w|,  vpsignb(a, w) = a · sign(w),
//     vpmaddubsw(|w|, a · sign(w)) = pairs a·w summed in int16 (no saturation: |a|, |w| ≤ 127, so a pair is at
//     most 2 · 127² = 32,258 < 32,767),  vpmaddwd(·, 1) = the quad's int32 sum,  vpaddd into the block sum.
//   Tile: 4 rows × 16 columns; |w| is taken once per quad for its 16 columns and reused by its 4 rows. Per quad:
//   2 W loads, 2 vpabsb, 4 A broadcasts and, per row and 8 columns, 4 operations (vpsignb, vpmaddubsw, vpmaddwd,
//   vpaddd; 2 on the multiply ports): 8 int32 block sums, 4 W vectors, the broadcast, a temporary and the ones fill
//   15 of the 16 ymm (6 rows would spill 3 sums every quad, for no gain measured on Zen 5).
// - AVX-VNNI (Intel Alder Lake / Sapphire Rapids and later, AMD Zen 5): `vpdpbusd` ymm (VEX), 32 unsigned-by-signed
//   byte multiply-adds per instruction, on activations aq + 128 as the AVX-512 VNNI set: a block's sum
//     sum'(i, j, b) = Σ_{p∈b} (aq[i][p] + 128) · wq[j][p] = sum(i, j, b) + o_{j,b},   o_{j,b} = 128 · Σ_{p∈b} wq[j][p],
//   starts at the stored −o_{j,b} and so ends at sum(i, j, b) exactly.
//   Tile: 6 rows × 16 columns; per quad 2 W loads, 6 A broadcasts and 12 vpdpbusd into 12 int32 block sums.
//
// Both tiles are swept four times over the 64-column sliver (two ymm of int32 per row). The int32 block sums live in
// registers; the float accumulators are touched once per 64-element block (a convert and an FMA), so they may live
// in memory.
//
// Scalar twin of the micro-kernels (the specification: gemm_int8_generic.c, attend_int8.h):
//   sum(i, j, b) = Σ_{q∈b} Σ_e aq[i][4q+e] · wq[j][4q+e]   (int32, exact)
//   acc = fma((float)sum(i, j, b), t_{i,b}, acc) over the blocks;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
#if defined(__x86_64__)
#include <immintrin.h>
#include "attend_int8.h"
#include "tail_masks.h"

#define TAVX2 __attribute__((target("avx2,fma")))
#define TVNNI __attribute__((target("avx2,fma,avxvnni")))
#define INLINE static inline __attribute__((always_inline))
#define MR_AVX2 4     // rows per A sliver: AVX2 set
#define MR_VNNI 6     // rows per A sliver: AVX-VNNI set
#define MR_MAX 6
#define NT 16  // columns per tile
#define NR ATTEND_INT8_NR
#define KB ATTEND_INT8_KB
#define QB (KB / 4)  // quads per block

// MARK: - The tile's store (both sets)

/// Rows [0, rows) × columns [j0, j0 + 16) ∩ [0, nr) of C from the float accumulators:
///   c[i·ldc + j] = acc(i, j) · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])   (C not read when beta == 0)
TAVX2 INLINE void store_tile(const int rows, __m256 acc[MR_MAX][2], const float *w_scales, float *c, ptrdiff_t ldc,
                             float beta, ptrdiff_t j0, ptrdiff_t nr) {
    const __m256 vbeta = _mm256_set1_ps(beta);
    for (int v = 0; v < 2; ++v) {
        const ptrdiff_t cols = nr - j0 - 8 * v, j = j0 + 8 * v;
        if (cols <= 0) break;
        const __m256 ws = _mm256_loadu_ps(w_scales + j);  // the scales are padded to whole slivers
        if (cols >= 8) {
            for (int i = 0; i < rows; ++i) {
                __m256 value = _mm256_mul_ps(acc[i][v], ws);
                if (beta != 0.0f) value = _mm256_add_ps(value, _mm256_mul_ps(vbeta, _mm256_loadu_ps(c + i * ldc + j)));
                _mm256_storeu_ps(c + i * ldc + j, value);
            }
        } else {
            const __m256i m = attend_mask8(cols);
            for (int i = 0; i < rows; ++i) {
                __m256 value = _mm256_mul_ps(acc[i][v], ws);
                if (beta != 0.0f) value = _mm256_add_ps(value, _mm256_mul_ps(vbeta, _mm256_maskload_ps(c + i * ldc + j, m)));
                _mm256_maskstore_ps(c + i * ldc + j, m, value);
            }
        }
    }
}

// MARK: - AVX2: vpsignb + vpmaddubsw + vpmaddwd

/// The AVX2 tile for a fixed row count (a constant after inlining, so the loops over rows unroll and the block sums
/// stay in registers), columns [j0, j0 + 16) of the sliver. Packed A holds signed aq.
TAVX2 INLINE void tile_avx2(const int rows, ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                            const uint32_t *restrict w, const float *restrict w_scales, float *restrict c,
                            ptrdiff_t ldc, float beta, ptrdiff_t j0, ptrdiff_t nr) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[MR_MAX][2];  // [row][8 columns]
    for (int i = 0; i < rows; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
        __m256i sum[MR_AVX2][2];  // int32 block sums [row][8 columns]
        for (int i = 0; i < rows; ++i) sum[i][0] = sum[i][1] = _mm256_setzero_si256();
        const ptrdiff_t q1 = q0 + QB < kq ? q0 + QB : kq;
        for (ptrdiff_t q = q0; q < q1; ++q) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + q * NR + j0));      // quad q, 8 columns
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + q * NR + j0 + 8));
            const __m256i u0 = _mm256_abs_epi8(w0), u1 = _mm256_abs_epi8(w1);                // |w|, unsigned
            for (int i = 0; i < rows; ++i) {
                const __m256i ai = _mm256_set1_epi32((int)a[q * MR_AVX2 + i]);                   // quad q of row i
                sum[i][0] = _mm256_add_epi32(sum[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(ai, w0)), ones));
                sum[i][1] = _mm256_add_epi32(sum[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(ai, w1)), ones));
            }
        }
        for (int i = 0; i < rows; ++i) {
            const __m256 t = _mm256_set1_ps(a_scales[b * MR_AVX2 + i]);
            acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i][0]), t, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i][1]), t, acc[i][1]);
        }
    }
    store_tile(rows, acc, w_scales, c, ldc, beta, j0, nr);
}

TAVX2 static void int8_kernel_avx2(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                   const uint32_t *restrict w, const float *restrict w_scales,
                                   const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                                   ptrdiff_t mr, ptrdiff_t nr) {
    (void)w_offsets;  // signed activations: no offset to take back
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += NT) {
        switch (mr) {
        case 4: tile_avx2(4, kq, a, a_scales, w, w_scales, c, ldc, beta, j0, nr); break;
        case 3: tile_avx2(3, kq, a, a_scales, w, w_scales, c, ldc, beta, j0, nr); break;
        case 2: tile_avx2(2, kq, a, a_scales, w, w_scales, c, ldc, beta, j0, nr); break;
        default: tile_avx2(1, kq, a, a_scales, w, w_scales, c, ldc, beta, j0, nr); break;
        }
    }
}

// MARK: - AVX-VNNI: vpdpbusd ymm

/// The AVX-VNNI tile, as tile_avx2; packed A holds aq + 128 and each block's sums start at −o_{j,b}.
TVNNI INLINE void tile_avxvnni(const int rows, ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                               const uint32_t *restrict w, const float *restrict w_scales,
                               const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                               ptrdiff_t j0, ptrdiff_t nr) {
    __m256 acc[MR_MAX][2];
    for (int i = 0; i < rows; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (ptrdiff_t q0 = 0, b = 0; q0 < kq; q0 += QB, ++b) {
        // The block sums start at −o_{j,b} (stored negated), so they end at the signed sums.
        const __m256i o0 = _mm256_loadu_si256((const __m256i *)(w_offsets + b * NR + j0));
        const __m256i o1 = _mm256_loadu_si256((const __m256i *)(w_offsets + b * NR + j0 + 8));
        __m256i sum[MR_VNNI][2];
        for (int i = 0; i < rows; ++i) {
            sum[i][0] = o0;
            sum[i][1] = o1;
        }
        const ptrdiff_t q1 = q0 + QB < kq ? q0 + QB : kq;
        for (ptrdiff_t q = q0; q < q1; ++q) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + q * NR + j0));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + q * NR + j0 + 8));
            for (int i = 0; i < rows; ++i) {
                const __m256i ai = _mm256_set1_epi32((int)a[q * MR_VNNI + i]);
                sum[i][0] = _mm256_dpbusd_avx_epi32(sum[i][0], ai, w0);
                sum[i][1] = _mm256_dpbusd_avx_epi32(sum[i][1], ai, w1);
            }
        }
        for (int i = 0; i < rows; ++i) {
            const __m256 t = _mm256_set1_ps(a_scales[b * MR_VNNI + i]);
            acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i][0]), t, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i][1]), t, acc[i][1]);
        }
    }
    store_tile(rows, acc, w_scales, c, ldc, beta, j0, nr);
}

TVNNI static void int8_kernel_avxvnni(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                      const uint32_t *restrict w, const float *restrict w_scales,
                                      const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc, float beta,
                                      ptrdiff_t mr, ptrdiff_t nr) {
    for (ptrdiff_t j0 = 0; j0 < nr; j0 += NT) {
        switch (mr) {
        case 6: tile_avxvnni(6, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 5: tile_avxvnni(5, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 4: tile_avxvnni(4, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 3: tile_avxvnni(3, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        case 2: tile_avxvnni(2, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        default: tile_avxvnni(1, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, j0, nr); break;
        }
    }
}

// MARK: - The quantizing A packing (both sets)

/// max |x[p]| over the len (1 ≤ len ≤ 64) floats of one block (max is exact, so the order does not matter).
TAVX2 INLINE float block_max_abs(const float *x, ptrdiff_t len) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int v = 0; v < KB / 8 && 8 * v < len; ++v) {
        const __m256 xv = len - 8 * v >= 8 ? _mm256_loadu_ps(x + 8 * v) : _mm256_maskload_ps(x + 8 * v, attend_mask8(len - 8 * v));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, xv));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/// Elements [0, 32) at x (those at or past `len` read as 0) as 32 bytes in element order: rne(x · inv) by
/// `vcvtps2dq` (default rounding mode), clamped to ±127 (saturating packs, then max with −127), XORed with `flip`
/// (0x80 bytes give aq + 128).
TAVX2 INLINE __m256i quantize32(const float *x, ptrdiff_t len, __m256 inv, __m256i flip) {
    __m256i q[4];
    for (int v = 0; v < 4; ++v) {
        const ptrdiff_t left = len - 8 * v;
        const __m256 xv = left >= 8 ? _mm256_loadu_ps(x + 8 * v)
                        : left > 0  ? _mm256_maskload_ps(x + 8 * v, attend_mask8(left))
                                    : _mm256_setzero_ps();
        q[v] = _mm256_cvtps_epi32(_mm256_mul_ps(xv, inv));
    }
    // packs works per 128-bit lane: dword d of `bytes` holds elements 8·(d % 4) + 4·(d / 4) … + 3.
    const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm256_xor_si256(_mm256_max_epi8(ordered, _mm256_set1_epi8(-127)), flip);
}

/// Quantizes rows [0, mc) of A and packs them into slivers of mr rows (attend_int8.h): per sliver and 64-element
/// block, each row's scale t = ν / 127 and its 16 quads, then the 16 × mr words in the sliver's order (word mr·q + r
/// = quad q of row r). offset = 0: bytes aq; 1: aq + 128, rows past mc 0x80 (the VNNI set's zero).
TAVX2 INLINE void pack_a(const int mr, const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                         float *scales, const int offset) {
    const ptrdiff_t kq = (k + 3) / 4, nb = (k + KB - 1) / KB;
    const __m256i flip = _mm256_set1_epi8(offset ? (char)0x80 : 0);
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
        const ptrdiff_t rows = mc - i0 < mr ? mc - i0 : mr;
        for (ptrdiff_t b = 0; b < nb; ++b) {
            const ptrdiff_t p0 = b * KB, len = k - p0 < KB ? k - p0 : KB;
            uint32_t quads[MR_MAX][QB] __attribute__((aligned(32)));  // [row][quad of the block]
            for (ptrdiff_t r = 0; r < mr; ++r) {
                if (r < rows) {
                    const float *x = a + (i0 + r) * lda + p0;
                    const float nu = block_max_abs(x, len);
                    const __m256 inv = _mm256_set1_ps(nu > 0.0f ? 127.0f / nu : 0.0f);
                    scales[b * mr + r] = nu / 127.0f;
                    _mm256_store_si256((__m256i *)quads[r], quantize32(x, len, inv, flip));
                    _mm256_store_si256((__m256i *)(quads[r] + 8), len > 32 ? quantize32(x + 32, len - 32, inv, flip) : flip);
                } else {
                    _mm256_store_si256((__m256i *)quads[r], flip);
                    _mm256_store_si256((__m256i *)(quads[r] + 8), flip);
                    scales[b * mr + r] = 0.0f;
                }
            }
            const ptrdiff_t nq = kq - b * QB < QB ? kq - b * QB : QB;
            uint32_t *d = dst + b * QB * mr;
            for (ptrdiff_t q = 0; q < nq; ++q)
                for (int r = 0; r < mr; ++r) d[q * mr + r] = quads[r][q];
        }
        dst += kq * mr;
        scales += nb * mr;
    }
}

TAVX2 static void int8_pack_a_avx2(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst, float *scales) {
    pack_a(MR_AVX2, a, lda, mc, k, dst, scales, 0);
}

TAVX2 static void int8_pack_a_avxvnni(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                      float *scales) {
    pack_a(MR_VNNI, a, lda, mc, k, dst, scales, 1);
}

static const attend_int8_ukernel int8_ukernel_avx2 = {MR_AVX2, NR, int8_kernel_avx2, int8_pack_a_avx2, 0};
static const attend_int8_ukernel int8_ukernel_avxvnni = {MR_VNNI, NR, int8_kernel_avxvnni, int8_pack_a_avxvnni, 1};

const attend_int8_ukernel *attend_int8_ukernel_avx2(void) { return &int8_ukernel_avx2; }
const attend_int8_ukernel *attend_int8_ukernel_avxvnni(void) { return &int8_ukernel_avxvnni; }

#else
#include "attend_int8.h"
const attend_int8_ukernel *attend_int8_ukernel_avx2(void) { return 0; }
const attend_int8_ukernel *attend_int8_ukernel_avxvnni(void) { return 0; }
#endif
