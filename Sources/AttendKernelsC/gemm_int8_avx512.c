// AVX-512 VNNI int8 GEMM: a 6×64 micro-kernel on `vpdpbusd` (24 zmm accumulators of 16 int32 lanes; each
// instruction 64 unsigned-by-signed byte multiply-adds) and the per-call quantizing A packing.
//
// Scalar twin of the micro-kernel (the specification; see attend_int8.h). Packed A holds aq + 128, so
//   acc'(i, j) = Σ_q Σ_e (aq[i][4q+e] + 128) · wq[j][4q+e] = acc(i, j) + o_j,   o_j = 128 · Σ_p wq[j][p]
//   c[i·ldc + j] = (float)(acc'(i, j) − o_j) · (t_i · s_j) + (beta == 0 ? 0 : beta · c[i·ldc + j])
// which is the portable kernel's value bit for bit (the int32 sums are exact).
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "attend_int8.h"

#define TVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MR 6
#define NR ATTEND_INT8_NR

/// Lanes [0, n) of a 16-lane mask (n clamped to 0…16).
TVNNI static inline __attribute__((always_inline)) __mmask16 mask_upto(ptrdiff_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/// The tile for a fixed row count (a compile-time constant after inlining, so that every loop over rows unrolls and
/// the accumulators live in registers).
TVNNI static inline __attribute__((always_inline)) void
int8_tile(const int rows, ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
          const uint32_t *restrict w, const float *restrict w_scales, const int32_t *restrict w_offsets,
          float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t nr) {
    __m512i acc[MR][4];
    for (int i = 0; i < rows; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = _mm512_setzero_si512();
    for (ptrdiff_t q = 0; q < kq; ++q) {
        const __m512i w0 = _mm512_loadu_si512(w);
        const __m512i w1 = _mm512_loadu_si512(w + 16);
        const __m512i w2 = _mm512_loadu_si512(w + 32);
        const __m512i w3 = _mm512_loadu_si512(w + 48);
        for (int i = 0; i < rows; ++i) {
            const __m512i ai = _mm512_set1_epi32((int)a[i]);
            acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], ai, w0);
            acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], ai, w1);
            acc[i][2] = _mm512_dpbusd_epi32(acc[i][2], ai, w2);
            acc[i][3] = _mm512_dpbusd_epi32(acc[i][3], ai, w3);
        }
        a += MR;
        w += NR;
    }
    const __m512 vbeta = _mm512_set1_ps(beta);
    for (int v = 0; v < 4; ++v) {
        const __mmask16 m = mask_upto(nr - 16 * v);
        if (!m) break;
        const __m512i offs = _mm512_maskz_loadu_epi32(m, w_offsets + 16 * v);
        const __m512 ws = _mm512_maskz_loadu_ps(m, w_scales + 16 * v);
        for (int i = 0; i < rows; ++i) {
            const __m512 sums = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][v], offs));
            const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(a_scales[i]), ws);
            __m512 value = _mm512_mul_ps(sums, scale);
            float *out = c + i * ldc + 16 * v;
            if (beta != 0.0f) value = _mm512_add_ps(value, _mm512_mul_ps(vbeta, _mm512_maskz_loadu_ps(m, out)));
            _mm512_mask_storeu_ps(out, m, value);
        }
    }
}

TVNNI static void int8_kernel_avx512vnni(ptrdiff_t kq, const uint32_t *restrict a, const float *restrict a_scales,
                                         const uint32_t *restrict w, const float *restrict w_scales,
                                         const int32_t *restrict w_offsets, float *restrict c, ptrdiff_t ldc,
                                         float beta, ptrdiff_t mr, ptrdiff_t nr) {
    switch (mr) {
    case 6: int8_tile(6, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    case 5: int8_tile(5, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    case 4: int8_tile(4, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    case 3: int8_tile(3, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    case 2: int8_tile(2, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    default: int8_tile(1, kq, a, a_scales, w, w_scales, w_offsets, c, ldc, beta, nr); break;
    }
}

/// One row quantized (the portable `quantize` on 16 lanes at a time: rne of x · inv by `vcvtps2dq` in the default
/// rounding mode, clamped, plus 128) and stored as quad words at stride MR: quad q at dst[q·MR].
TVNNI static inline __attribute__((always_inline)) void
quantize_row(const float *row, ptrdiff_t k, uint32_t *dst, float *scale) {
    __m512 mx = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < k; p += 16)
        mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask_upto(k - p), row + p)));
    const float nu = _mm512_reduce_max_ps(mx);
    const float inv = nu > 0.0f ? 127.0f / nu : 0.0f;
    *scale = nu / 127.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), bias = _mm512_set1_epi32(128);
    const ptrdiff_t kq = (k + 3) / 4;
    for (ptrdiff_t p = 0; p < k; p += 16) {
        const __m512 x = _mm512_maskz_loadu_ps(mask_upto(k - p), row + p);
        __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(x, vinv));
        q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), bias);
        uint32_t words[4];
        _mm_storeu_si128((__m128i *)words, _mm512_cvtepi32_epi8(q));
        const ptrdiff_t q0 = p / 4;
        for (int e = 0; e < 4 && q0 + e < kq; ++e) dst[(q0 + e) * MR] = words[e];
    }
}

TVNNI static void int8_pack_a_avx512vnni(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                         float *scales) {
    const ptrdiff_t kq = (k + 3) / 4;
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        for (ptrdiff_t r = 0; r < MR; ++r) {
            if (i0 + r < mc) {
                quantize_row(a + (i0 + r) * lda, k, dst + r, scales + r);
            } else {
                for (ptrdiff_t q = 0; q < kq; ++q) dst[q * MR + r] = 0x80808080u;
                scales[r] = 0.0f;
            }
        }
        dst += kq * MR;
        scales += MR;
    }
}

static const attend_int8_ukernel int8_ukernel_avx512vnni = {MR, NR, int8_kernel_avx512vnni, int8_pack_a_avx512vnni, 1};

const attend_int8_ukernel *attend_int8_ukernel_avx512vnni(void) { return &int8_ukernel_avx512vnni; }

#else
#include "attend_int8.h"
const attend_int8_ukernel *attend_int8_ukernel_avx512vnni(void) { return 0; }
#endif
