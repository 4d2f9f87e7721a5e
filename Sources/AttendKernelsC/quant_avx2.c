// AVX2 + FMA block-quantized kernels for x86 CPUs without AVX-512: each 32-element weight block is
// decoded to four ymm of float32 in registers (nibbles or int8 widened with vpmovzxbd / vpmovsxbd,
// converted, then one FMA w = q·d + m; m = −8·d for Q4_0) and multiplied into per-row float32
// accumulators (two ymm per row and weight row). A tile is up to 4 activation rows × 1 weight row, or
// 1 activation row × 2 weight rows (decode, M = 1).
//
// Scalar twin of the kernel (the specification): quant_generic.c, with w = fma(q, d, m).
#if defined(__x86_64__)
#include <immintrin.h>
#include "attend_quant.h"

#define T256 __attribute__((target("avx2,fma")))
#define MT 4

/// Decodes the block at `b` to float32: elements 8·g … 8·g + 7 in w[g].
T256 static inline __attribute__((always_inline)) void decode256(const int qtype, const uint8_t *b, __m256 w[4]) {
    if (qtype == ATTEND_QTYPE_Q8_0) {
        const __m256 d = _mm256_set1_ps(attend_half_at(b));
        for (int g = 0; g < 4; ++g) {
            const __m128i q = _mm_loadl_epi64((const __m128i *)(b + 2 + 8 * g));
            w[g] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
        }
    } else {
        const float df = attend_half_at(b);
        const __m256 d = _mm256_set1_ps(df);
        const __m256 m = _mm256_set1_ps(qtype == ATTEND_QTYPE_Q4_1 ? attend_half_at(b + 2) : -8.0f * df);
        const __m128i qs = _mm_loadu_si128((const __m128i *)(b + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2)));
        const __m128i lo = _mm_and_si128(qs, _mm_set1_epi8(0x0F));
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), _mm_set1_epi8(0x0F));
        w[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), d, m);
        w[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), d, m);
        w[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), d, m);
        w[3] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), d, m);
    }
}

T256 static inline __attribute__((always_inline)) float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// y[r·ldy + c] for r < rows, c < cols (rows·cols ≤ 4; compile-time constants after inlining).
T256 static inline __attribute__((always_inline)) void
tile256(const int qtype, const int rows, const int cols, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
        const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    __m256 acc[MT][2][2];
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) acc[r][c][0] = acc[r][c][1] = _mm256_setzero_ps();
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m256 wv[2][4];
        for (int c = 0; c < cols; ++c) decode256(qtype, w + c * ldw + b * bb, wv[c]);
        for (int r = 0; r < rows; ++r) {
            const float *xr = x + r * ldx + 32 * b;
            for (int g = 0; g < 4; ++g) {
                const __m256 xv = _mm256_loadu_ps(xr + 8 * g);
                for (int c = 0; c < cols; ++c) acc[r][c][g & 1] = _mm256_fmadd_ps(wv[c][g], xv, acc[r][c][g & 1]);
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) y[r * ldy + c] = hsum256(_mm256_add_ps(acc[r][c][0], acc[r][c][1]));
}

T256 static void dot_type256(const int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const float *x,
                             ptrdiff_t ldx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    if (m == 1) {
        ptrdiff_t j = 0;
        for (; j + 2 <= n; j += 2) tile256(qtype, 1, 2, nb, x, ldx, w + j * ldw, ldw, y + j, ldy);
        if (j < n) tile256(qtype, 1, 1, nb, x, ldx, w + j * ldw, ldw, y + j, ldy);
        return;
    }
    for (ptrdiff_t j = 0; j < n; ++j) {
        const uint8_t *wj = w + j * ldw;
        ptrdiff_t i = 0;
        for (; i + MT <= m; i += MT) tile256(qtype, MT, 1, nb, x + i * ldx, ldx, wj, ldw, y + i * ldy + j, ldy);
        switch (m - i) {
        case 3: tile256(qtype, 3, 1, nb, x + i * ldx, ldx, wj, ldw, y + i * ldy + j, ldy); break;
        case 2: tile256(qtype, 2, 1, nb, x + i * ldx, ldx, wj, ldw, y + i * ldy + j, ldy); break;
        case 1: tile256(qtype, 1, 1, nb, x + i * ldx, ldx, wj, ldw, y + i * ldy + j, ldy); break;
        default: break;
        }
    }
}

T256 static void quant_dot_avx2(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const float *x,
                                ptrdiff_t ldx, const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: dot_type256(ATTEND_QTYPE_Q4_0, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q4_1: dot_type256(ATTEND_QTYPE_Q4_1, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q8_0: dot_type256(ATTEND_QTYPE_Q8_0, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    default: break;
    }
}

T256 static void quant_dequant_avx2(int qtype, const void *blocks, ptrdiff_t nb, float *out) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    if (bb == 0) return;
    const uint8_t *p = (const uint8_t *)blocks;
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m256 w[4];
        switch (qtype) {
        case ATTEND_QTYPE_Q4_0: decode256(ATTEND_QTYPE_Q4_0, p + b * bb, w); break;
        case ATTEND_QTYPE_Q4_1: decode256(ATTEND_QTYPE_Q4_1, p + b * bb, w); break;
        default: decode256(ATTEND_QTYPE_Q8_0, p + b * bb, w); break;
        }
        for (int g = 0; g < 4; ++g) _mm256_storeu_ps(out + 32 * b + 8 * g, w[g]);
    }
}

// MARK: - AVX2 int8 kernel
//
// The int8 path of attend_quant.h without VNNI: per block, the 32 weight quants as unsigned bytes (nibbles
// unpacked to 0…15, or |w| for Q8_0 with the sign moved onto x) times the 32 int8 activation quants with
// vpmaddubsw (pairs summed to int16: at most 2·128·127 = 32512, so never saturating) and vpmaddwd against
// ones (int32 lanes), converted to float and scaled by d_w · d_x with one FMA; c_b added in a scalar.
// Tile: up to 4 activation rows × 1 weight row, or 1 activation row × 2 weight rows.

T256 static inline __attribute__((always_inline)) void
tile_q8_256(const int qtype, const int rows, const int cols, ptrdiff_t nb, const int8_t *qx, const float *dx,
            const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype), kx = 32 * nb;
    __m256 acc[MT][2];
    float accs[MT][2];
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) { acc[r][c] = _mm256_setzero_ps(); accs[r][c] = 0.0f; }
    const __m128i nib = _mm_set1_epi8(0x0F);
    const __m256i ones = _mm256_set1_epi16(1);
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m256i wq[2];
        float dw[2], cw[2];
        for (int c = 0; c < cols; ++c) {
            const uint8_t *blk = w + c * ldw + b * bb;
            dw[c] = attend_half_at(blk);
            if (qtype == ATTEND_QTYPE_Q8_0) {
                wq[c] = _mm256_loadu_si256((const __m256i *)(blk + 2));
                cw[c] = 0.0f;
            } else {
                const __m128i qs = _mm_loadu_si128((const __m128i *)(blk + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2)));
                const __m128i lo = _mm_and_si128(qs, nib), hi = _mm_and_si128(_mm_srli_epi16(qs, 4), nib);
                wq[c] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
                cw[c] = qtype == ATTEND_QTYPE_Q4_1 ? attend_half_at(blk + 2) : -8.0f * dw[c];
            }
        }
        for (int r = 0; r < rows; ++r) {
            const __m256i xq = _mm256_loadu_si256((const __m256i *)(qx + r * kx + 32 * b));
            const float d = dx[r * nb + b], s = sx[r * nb + b];
            for (int c = 0; c < cols; ++c) {
                __m256i pairs;
                if (qtype == ATTEND_QTYPE_Q8_0) {
                    pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(wq[c]), _mm256_sign_epi8(xq, wq[c]));
                } else {
                    pairs = _mm256_maddubs_epi16(wq[c], xq);
                }
                const __m256i dot = _mm256_madd_epi16(pairs, ones);
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw[c] * d), acc[r][c]);
                accs[r][c] += cw[c] * s;
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) y[r * ldy + c] = hsum256(acc[r][c]) + accs[r][c];
}

T256 static void dot_q8_type256(const int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int8_t *qx,
                                const float *dx, const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y,
                                ptrdiff_t ldy) {
    if (m == 1) {
        ptrdiff_t j = 0;
        for (; j + 2 <= n; j += 2) tile_q8_256(qtype, 1, 2, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
        if (j < n) tile_q8_256(qtype, 1, 1, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
        return;
    }
    const ptrdiff_t kx = 32 * nb;
    for (ptrdiff_t j = 0; j < n; ++j) {
        const uint8_t *wj = w + j * ldw;
        ptrdiff_t i = 0;
        for (; i + MT <= m; i += MT)
            tile_q8_256(qtype, MT, 1, nb, qx + i * kx, dx + i * nb, sx + i * nb, wj, ldw, y + i * ldy + j, ldy);
        switch (m - i) {
        case 3: tile_q8_256(qtype, 3, 1, nb, qx + i * kx, dx + i * nb, sx + i * nb, wj, ldw, y + i * ldy + j, ldy); break;
        case 2: tile_q8_256(qtype, 2, 1, nb, qx + i * kx, dx + i * nb, sx + i * nb, wj, ldw, y + i * ldy + j, ldy); break;
        case 1: tile_q8_256(qtype, 1, 1, nb, qx + i * kx, dx + i * nb, sx + i * nb, wj, ldw, y + i * ldy + j, ldy); break;
        default: break;
        }
    }
}

T256 static void quant_dot_q8_avx2(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int8_t *qx,
                                   const float *dx, const float *sx, const void *w, ptrdiff_t ldw, float *y,
                                   ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: dot_q8_type256(ATTEND_QTYPE_Q4_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q4_1: dot_q8_type256(ATTEND_QTYPE_Q4_1, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q8_0: dot_q8_type256(ATTEND_QTYPE_Q8_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    default: break;
    }
}

// MARK: - AVX2 int16 kernels (attend_quant.h, "Int16 path")
//
// Per block: the 32 weight quants widened to two ymm of int16 (vpmovzxbw of the unpacked nibbles, or vpmovsxbw of
// the Q8_0 bytes), multiplied with the 32 int16 activation quants into 8 int32 lanes of 4 exact products each:
// vpmaddwd twice and vpaddd (AVX2), or vpmaddwd then vpdpwssd (AVX-VNNI); converted to float and scaled by
// d_w·d_x with one FMA. The two variants give identical results. Body: quant_q16_tile.h.

typedef struct { __m256i lo, hi; } q16_pair;  // int16 elements 0–15 and 16–31 of a block

T256 static inline __attribute__((always_inline)) q16_pair q16_load_w256(const int qtype, const uint8_t *b) {
    q16_pair p;
    if (qtype == ATTEND_QTYPE_Q8_0) {
        p.lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 2)));
        p.hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + 18)));
    } else {
        const __m128i nib = _mm_set1_epi8(0x0F);
        const __m128i qs = _mm_loadu_si128((const __m128i *)(b + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2)));
        p.lo = _mm256_cvtepu8_epi16(_mm_and_si128(qs, nib));
        p.hi = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(qs, 4), nib));
    }
    return p;
}

T256 static inline __attribute__((always_inline)) q16_pair q16_load_x256(const int16_t *p) {
    q16_pair x = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 16))};
    return x;
}

/// The block's scales [d_w, c_w, 0, 0] (c_w: m for Q4_1, −8·d_w for Q4_0, 0 for Q8_0).
T256 static inline __attribute__((always_inline)) __m128 q16_scales256(const int qtype, const uint8_t *b) {
    const float d = attend_half_at(b);
    const float c = qtype == ATTEND_QTYPE_Q8_0 ? 0.0f : qtype == ATTEND_QTYPE_Q4_1 ? attend_half_at(b + 2) : -8.0f * d;
    return _mm_set_ps(0.0f, 0.0f, c, d);
}

#define Q16_F __m256
#define Q16_W q16_pair
#define Q16_X q16_pair
#define Q16_LOAD_W(q, blk) q16_load_w256(q, blk)
#define Q16_LOAD_X(p) q16_load_x256(p)
#define Q16_ZERO() _mm256_setzero_ps()
#define Q16_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define Q16_SET1(f) _mm256_set1_ps(f)
#define Q16_HSUM(v) hsum256(v)
#define Q16_HALF(p) attend_half_at(p)
#define Q16_BCAST(v) _mm256_broadcastss_ps(v)
#define Q16_SCALES(q, blk) q16_scales256(q, blk)
#define Q16_NMAX 2

#define Q16_T T256
#define Q16_FN(name) q16_256_##name
#define Q16_DOT(w, x) _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16((w).lo, (x).lo), _mm256_madd_epi16((w).hi, (x).hi)))
#include "quant_q16_tile.h"
#undef Q16_T
#undef Q16_FN
#undef Q16_DOT

#define Q16_T __attribute__((target("avx2,fma,avxvnni")))
#define Q16_FN(name) q16_256vnni_##name
#define Q16_DOT(w, x) _mm256_cvtepi32_ps(_mm256_dpwssd_avx_epi32(_mm256_madd_epi16((w).lo, (x).lo), (w).hi, (x).hi))
#include "quant_q16_tile.h"

static const attend_quant_ukernel ukernel_avx2 = {ATTEND_ISA_AVX2, quant_dequant_avx2, quant_dot_avx2, quant_dot_q8_avx2,
                                                  q16_256_dot};
static const attend_quant_ukernel ukernel_avx2vnni = {ATTEND_ISA_AVX2, quant_dequant_avx2, quant_dot_avx2,
                                                      quant_dot_q8_avx2, q16_256vnni_dot};

const attend_quant_ukernel *attend_quant_ukernel_avx2(void) { return &ukernel_avx2; }
const attend_quant_ukernel *attend_quant_ukernel_avx2vnni(void) { return &ukernel_avx2vnni; }
#else
#include "attend_quant.h"
const attend_quant_ukernel *attend_quant_ukernel_avx2(void) { return 0; }
const attend_quant_ukernel *attend_quant_ukernel_avx2vnni(void) { return 0; }
#endif
