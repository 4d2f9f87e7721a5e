// AVX-512 block-quantized kernels: each 32-element weight block is decoded to two zmm of float32
// in registers (nibbles or int8 widened with vpmovzxbd / vpmovsxbd, converted, then one FMA
// w = q·d + m; m = −8·d for Q4_0) and multiplied into per-row float32 accumulators with FMAs. A tile
// is up to 4 activation rows × 2 weight rows, so each decoded block serves up to 4 rows and a single
// activation row (decode, M = 1) still has two independent accumulator chains per half block.
//
// Scalar twin of the kernel (the specification): quant_generic.c, with w = fma(q, d, m).
#if defined(__x86_64__)
#include <immintrin.h>
#include "attend_quant.h"

// F16C as well: every AVX-512 CPU has it, and one vcvtph2ps replaces attend_half_at's branches for each block's
// scales (the same float32 values; a signalling NaN scale comes back quiet, which changes no finite result).
#define T512 __attribute__((target("avx512f,avx512bw,fma,f16c")))
#define MT 4  // activation rows per tile
/// The binary16 at `p` (unaligned) widened to float32 by the CPU (exact).
#define HALF(p) _cvtsh_ss((unsigned short)((p)[0] | ((p)[1] << 8)))
#define NT 2  // weight rows per tile

/// Decodes the block at `b` to float32: elements 0–15 in *w0, 16–31 in *w1.
T512 static inline __attribute__((always_inline)) void
decode512(const int qtype, const uint8_t *b, __m512 *w0, __m512 *w1) {
    if (qtype == ATTEND_QTYPE_Q8_0) {
        const __m512 d = _mm512_set1_ps(HALF(b));
        const __m128i q0 = _mm_loadu_si128((const __m128i *)(b + 2));
        const __m128i q1 = _mm_loadu_si128((const __m128i *)(b + 18));
        *w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), d);
        *w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), d);
    } else {
        const float df = HALF(b);
        const __m512 d = _mm512_set1_ps(df);
        const __m512 m = _mm512_set1_ps(qtype == ATTEND_QTYPE_Q4_1 ? HALF(b + 2) : -8.0f * df);
        const __m128i qs = _mm_loadu_si128((const __m128i *)(b + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2)));
        const __m128i lo = _mm_and_si128(qs, _mm_set1_epi8(0x0F));
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(qs, 4), _mm_set1_epi8(0x0F));
        *w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), d, m);
        *w1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), d, m);
    }
}

/// y[r·ldy + c] for r < rows, c < cols of the tile whose first weight row is at w and first
/// activation row at x (rows and cols are compile-time constants after inlining).
T512 static inline __attribute__((always_inline)) void
tile512(const int qtype, const int rows, const int cols, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
        const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    __m512 acc[MT][NT][2];
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) acc[r][c][0] = acc[r][c][1] = _mm512_setzero_ps();
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m512 w0[NT], w1[NT];
        for (int c = 0; c < cols; ++c) decode512(qtype, w + c * ldw + b * bb, &w0[c], &w1[c]);
        for (int r = 0; r < rows; ++r) {
            const __m512 x0 = _mm512_loadu_ps(x + r * ldx + 32 * b);
            const __m512 x1 = _mm512_loadu_ps(x + r * ldx + 32 * b + 16);
            for (int c = 0; c < cols; ++c) {
                acc[r][c][0] = _mm512_fmadd_ps(w0[c], x0, acc[r][c][0]);
                acc[r][c][1] = _mm512_fmadd_ps(w1[c], x1, acc[r][c][1]);
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            y[r * ldy + c] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][c][0], acc[r][c][1]));
}

/// All activation rows against weight rows [j, j + cols), for one type.
T512 static inline __attribute__((always_inline)) void
columns512(const int qtype, const int cols, ptrdiff_t m, ptrdiff_t nb, const float *x, ptrdiff_t ldx,
           const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    ptrdiff_t i = 0;
    for (; i + MT <= m; i += MT) tile512(qtype, MT, cols, nb, x + i * ldx, ldx, w, ldw, y + i * ldy, ldy);
    switch (m - i) {
    case 3: tile512(qtype, 3, cols, nb, x + i * ldx, ldx, w, ldw, y + i * ldy, ldy); break;
    case 2: tile512(qtype, 2, cols, nb, x + i * ldx, ldx, w, ldw, y + i * ldy, ldy); break;
    case 1: tile512(qtype, 1, cols, nb, x + i * ldx, ldx, w, ldw, y + i * ldy, ldy); break;
    default: break;
    }
}

T512 static void dot_type512(const int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const float *x,
                             ptrdiff_t ldx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    ptrdiff_t j = 0;
    for (; j + NT <= n; j += NT) columns512(qtype, NT, m, nb, x, ldx, w + j * ldw, ldw, y + j, ldy);
    if (j < n) columns512(qtype, 1, m, nb, x, ldx, w + j * ldw, ldw, y + j, ldy);
}

T512 static void quant_dot_avx512(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const float *x,
                                  ptrdiff_t ldx, const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: dot_type512(ATTEND_QTYPE_Q4_0, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q4_1: dot_type512(ATTEND_QTYPE_Q4_1, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q8_0: dot_type512(ATTEND_QTYPE_Q8_0, m, n, nb, x, ldx, wb, ldw, y, ldy); break;
    default: break;
    }
}

T512 static void quant_dequant_avx512(int qtype, const void *blocks, ptrdiff_t nb, float *out) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype);
    if (bb == 0) return;
    const uint8_t *p = (const uint8_t *)blocks;
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m512 w0, w1;
        switch (qtype) {
        case ATTEND_QTYPE_Q4_0: decode512(ATTEND_QTYPE_Q4_0, p + b * bb, &w0, &w1); break;
        case ATTEND_QTYPE_Q4_1: decode512(ATTEND_QTYPE_Q4_1, p + b * bb, &w0, &w1); break;
        default: decode512(ATTEND_QTYPE_Q8_0, p + b * bb, &w0, &w1); break;
        }
        _mm512_storeu_ps(out + 32 * b, w0);
        _mm512_storeu_ps(out + 32 * b + 16, w1);
    }
}

// MARK: - AVX-512 int16 kernels (attend_quant.h, "Int16 path")
//
// Per block: the 32 weight quants widened to one zmm of int16 (nibbles unpacked to 0…15 then vpmovzxbw,
// or the Q8_0 bytes with vpmovsxbw), one vpdpwssd (VNNI) or vpmaddwd (AVX-512BW) against the 32 int16
// activation quants (16 int32 lanes of 2 exact products each), converted to float and scaled by d_w·d_x
// with one FMA. The two variants give identical results. Body: quant_q16_tile.h.

/// The 32 weight quants of the block at `b` as int16, in element order.
#define Q16_LOAD_W512(qtype, b)                                                                                     \
    ((qtype) == ATTEND_QTYPE_Q8_0                                                                                    \
         ? _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)((b) + 2)))                                      \
         : q16_nibbles512(_mm_loadu_si128((const __m128i *)((b) + ((qtype) == ATTEND_QTYPE_Q4_1 ? 4 : 2)))))

#define T512BW __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define T512VW __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

/// The 16 bytes of nibbles as 32 int16 quants: low nibbles (elements 0–15), then high nibbles (16–31).
T512BW static inline __attribute__((always_inline)) __m512i q16_nibbles512(__m128i qs) {
    const __m128i nib = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(qs, nib), hi = _mm_and_si128(_mm_srli_epi16(qs, 4), nib);
    return _mm512_cvtepu8_epi16(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

/// The block's scales [d_w, c_w, 0, 0] (c_w: m for Q4_1, −8·d_w for Q4_0, 0 for Q8_0): the binary16 pair at the
/// block's start converted by one vcvtph2ps (Q4_1 stores d then m).
T512BW static inline __attribute__((always_inline)) __m128 q16_scales512(const int qtype, const uint8_t *b) {
    if (qtype == ATTEND_QTYPE_Q4_1) {
        int32_t dm;
        memcpy(&dm, b, 4);
        return _mm_cvtph_ps(_mm_cvtsi32_si128(dm));
    }
    const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(b[0] | (b[1] << 8))));
    return qtype == ATTEND_QTYPE_Q4_0 ? _mm_insert_ps(d, _mm_mul_ss(d, _mm_set_ss(-8.0f)), 0x10) : d;
}

#define Q16_F __m512
#define Q16_W __m512i
#define Q16_X __m512i
#define Q16_LOAD_W(q, blk) Q16_LOAD_W512(q, blk)
#define Q16_LOAD_X(p) _mm512_loadu_si512((const void *)(p))
#define Q16_ZERO() _mm512_setzero_ps()
#define Q16_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define Q16_SET1(f) _mm512_set1_ps(f)
#define Q16_HSUM(v) _mm512_reduce_add_ps(v)
#define Q16_HALF(p) HALF(p)
#define Q16_BCAST(v) _mm512_broadcastss_ps(v)
#define Q16_SCALES(q, blk) q16_scales512(q, blk)
#define Q16_NMAX 4

#define Q16_T T512BW
#define Q16_FN(name) q16_512bw_##name
#define Q16_DOT(w, x) _mm512_cvtepi32_ps(_mm512_madd_epi16(w, x))
#include "quant_q16_tile.h"
#undef Q16_T
#undef Q16_FN
#undef Q16_DOT

#define Q16_T T512VW
#define Q16_FN(name) q16_512vnni_##name
#define Q16_DOT(w, x) _mm512_cvtepi32_ps(_mm512_dpwssd_epi32(_mm512_setzero_si512(), w, x))
#include "quant_q16_tile.h"

// AVX-512F without BW (no vpmaddwd on zmm): no int16 kernel.
static const attend_quant_ukernel ukernel_avx512f = {ATTEND_ISA_AVX512, quant_dequant_avx512, quant_dot_avx512, 0, 0};
static const attend_quant_ukernel ukernel_avx512 = {ATTEND_ISA_AVX512, quant_dequant_avx512, quant_dot_avx512, 0,
                                                    q16_512bw_dot};

const attend_quant_ukernel *attend_quant_ukernel_avx512(void) {
    return attend_cpu_has_avx512bw() ? &ukernel_avx512 : &ukernel_avx512f;
}

// MARK: - AVX-512 VNNI int8 kernel
//
// Per block: the 32 weight quants as bytes in element order (nibbles unpacked to 0…15, or the Q8_0
// bytes made unsigned by |w| with the sign moved onto x), one 256-bit vpdpbusd against the 32 int8
// activation quants (8 int32 lanes of 4 exact products each), converted to float and scaled by
// d_w · d_x with one FMA into the tile's accumulator; the block's constant c_b (see attend_quant.h)
// is added in a scalar. Tile: up to 4 activation rows × 2 weight rows.

#define T512V __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

T512V static inline __attribute__((always_inline)) float hsum256v(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

T512V static inline __attribute__((always_inline)) void
tile_q8(const int qtype, const int rows, const int cols, ptrdiff_t nb, const int8_t *qx, const float *dx,
        const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype), kx = 32 * nb;
    __m256 acc[MT][NT];
    float accs[MT][NT];
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) { acc[r][c] = _mm256_setzero_ps(); accs[r][c] = 0.0f; }
    const __m128i nib = _mm_set1_epi8(0x0F);
    for (ptrdiff_t b = 0; b < nb; ++b) {
        __m256i wq[NT];
        float dw[NT], cw[NT];
        for (int c = 0; c < cols; ++c) {
            const uint8_t *blk = w + c * ldw + b * bb;
            dw[c] = HALF(blk);
            if (qtype == ATTEND_QTYPE_Q8_0) {
                wq[c] = _mm256_loadu_si256((const __m256i *)(blk + 2));
                cw[c] = 0.0f;
            } else {
                const __m128i qs = _mm_loadu_si128((const __m128i *)(blk + (qtype == ATTEND_QTYPE_Q4_1 ? 4 : 2)));
                const __m128i lo = _mm_and_si128(qs, nib), hi = _mm_and_si128(_mm_srli_epi16(qs, 4), nib);
                wq[c] = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
                cw[c] = qtype == ATTEND_QTYPE_Q4_1 ? HALF(blk + 2) : -8.0f * dw[c];
            }
        }
        for (int r = 0; r < rows; ++r) {
            const __m256i xq = _mm256_loadu_si256((const __m256i *)(qx + r * kx + 32 * b));
            const float d = dx[r * nb + b], s = sx[r * nb + b];
            for (int c = 0; c < cols; ++c) {
                __m256i dot;
                if (qtype == ATTEND_QTYPE_Q8_0) {
                    dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wq[c]), _mm256_sign_epi8(xq, wq[c]));
                } else {
                    dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wq[c], xq);
                }
                acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw[c] * d), acc[r][c]);
                accs[r][c] += cw[c] * s;
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) y[r * ldy + c] = hsum256v(acc[r][c]) + accs[r][c];
}

T512V static inline __attribute__((always_inline)) void
columns_q8(const int qtype, const int cols, ptrdiff_t m, ptrdiff_t nb, const int8_t *qx, const float *dx,
           const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t kx = 32 * nb;
    ptrdiff_t i = 0;
    for (; i + MT <= m; i += MT)
        tile_q8(qtype, MT, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy);
    switch (m - i) {
    case 3: tile_q8(qtype, 3, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    case 2: tile_q8(qtype, 2, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    case 1: tile_q8(qtype, 1, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    default: break;
    }
}

T512V static void dot_q8_type(const int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int8_t *qx,
                              const float *dx, const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    ptrdiff_t j = 0;
    for (; j + NT <= n; j += NT) columns_q8(qtype, NT, m, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
    if (j < n) columns_q8(qtype, 1, m, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
}

T512V static void quant_dot_q8_avx512vnni(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int8_t *qx,
                                          const float *dx, const float *sx, const void *w, ptrdiff_t ldw,
                                          float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: dot_q8_type(ATTEND_QTYPE_Q4_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q4_1: dot_q8_type(ATTEND_QTYPE_Q4_1, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q8_0: dot_q8_type(ATTEND_QTYPE_Q8_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    default: break;
    }
}

static const attend_quant_ukernel ukernel_avx512vnni = {ATTEND_ISA_AVX512, quant_dequant_avx512, quant_dot_avx512,
                                                        quant_dot_q8_avx512vnni, q16_512vnni_dot};

const attend_quant_ukernel *attend_quant_ukernel_avx512vnni(void) { return &ukernel_avx512vnni; }
#else
#include "attend_quant.h"
const attend_quant_ukernel *attend_quant_ukernel_avx512(void) { return 0; }
const attend_quant_ukernel *attend_quant_ukernel_avx512vnni(void) { return 0; }
#endif
