// AVX-512 VNNI int8 GEMM: a 6×32 micro-kernel on `vpdpbusd` (12 zmm int32 block sums, each instruction 64
// unsigned-by-signed byte multiply-adds, and 12 float accumulators), swept twice over the 64-column sliver, and the
// per-call quantizing A packing.
//
// Scalar twin of the micro-kernel (the specification; see attend_int8.h). Packed A holds aq + 128, so a block's sum
//   sum'(i, j, b) = Σ_{p∈b} (aq[i][p] + 128) · wq[j][p] = sum(i, j, b) + o_{j,b},   o_{j,b} = 128 · Σ_{p∈b} wq[j][p]
//   acc = fma((float)(sum' − o_{j,b}), t_{i,b}, acc) over the blocks;  c[i·ldc + j] = acc · s_j + (beta == 0 ? 0 : beta · c[i·ldc + j])
// which is the portable kernel's value bit for bit (the int32 sums are exact).
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
        __m512i sum[MR][2];
        for (int i = 0; i < rows; ++i) sum[i][0] = sum[i][1] = _mm512_setzero_si512();
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
        const __m512i o0 = _mm512_loadu_si512(w_offsets + b * NR + j0);
        const __m512i o1 = _mm512_loadu_si512(w_offsets + b * NR + j0 + 16);
        for (int i = 0; i < rows; ++i) {
            const __m512 t = _mm512_set1_ps(a_scales[b * MR + i]);
            acc[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(sum[i][0], o0)), t, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(sum[i][1], o1)), t, acc[i][1]);
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

/// One row quantized block by block (the portable rule on 16 lanes at a time: rne of x · inv by `vcvtps2dq` in the
/// default rounding mode, clamped, plus 128), its quads stored at stride MR (quad q at dst[q·MR]) and its block
/// scales at stride MR (block b at scales[b·MR]).
TVNNI static inline __attribute__((always_inline)) void
quantize_row(const float *row, ptrdiff_t k, uint32_t *dst, float *scales) {
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), bias = _mm512_set1_epi32(128);
    const ptrdiff_t kq = (k + 3) / 4;
    for (ptrdiff_t p0 = 0, b = 0; p0 < k; p0 += KB, ++b) {
        const __m512 x0 = _mm512_maskz_loadu_ps(mask_upto(k - p0), row + p0);
        const __m512 x1 = _mm512_maskz_loadu_ps(mask_upto(k - p0 - 16), row + p0 + 16);
        const float nu = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        const __m512 inv = _mm512_set1_ps(nu > 0.0f ? 127.0f / nu : 0.0f);
        scales[b * MR] = nu / 127.0f;
        for (int h = 0; h < 2; ++h) {
            __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(h == 0 ? x0 : x1, inv));
            q = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(q, lo), hi), bias);
            uint32_t words[4];
            _mm_storeu_si128((__m128i *)words, _mm512_cvtepi32_epi8(q));
            const ptrdiff_t q0 = (p0 + 16 * h) / 4;
            for (int e = 0; e < 4 && q0 + e < kq; ++e) dst[(q0 + e) * MR] = words[e];
        }
    }
}

TVNNI static void int8_pack_a_avx512vnni(const float *a, ptrdiff_t lda, ptrdiff_t mc, ptrdiff_t k, uint32_t *dst,
                                         float *scales) {
    const ptrdiff_t kq = (k + 3) / 4, nb = (k + KB - 1) / KB;
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
        for (ptrdiff_t r = 0; r < MR; ++r) {
            if (i0 + r < mc) {
                quantize_row(a + (i0 + r) * lda, k, dst + r, scales + r);
            } else {
                for (ptrdiff_t q = 0; q < kq; ++q) dst[q * MR + r] = 0x80808080u;
                for (ptrdiff_t b = 0; b < nb; ++b) scales[b * MR + r] = 0.0f;
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
