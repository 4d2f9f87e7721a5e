// Shared by the two AVX-512 BF16 micro-kernels (gemm_bf16_avx512.c, native `vdpbf16ps`, and
// gemm_bf16_avx512f.c, widening): column masks and the store of a finished rows×ATTEND_BF16_NR (64) tile.
// Compiled for plain AVX-512F, so both kernels (whose targets include it) inline them.
#ifndef ATTEND_BF16_AVX512_TILE_H
#define ATTEND_BF16_AVX512_TILE_H
#include <immintrin.h>
#include <stddef.h>
#include "attend_bf16.h"
#include "tail_masks.h"

#define ATTEND_T512_BASE __attribute__((target("avx512f")))

/// c[i·ldc + j] = acc[i][j/16][j%16] + (beta == 0 ? 0 : beta · c[i·ldc + j]) for i < rows, j < nr (≤ 64);
/// on an edge tile (nr < 64) the masked-off lanes are neither read nor written. `rows` is a compile-time
/// constant after inlining, so `acc` stays in registers.
ATTEND_T512_BASE static inline __attribute__((always_inline)) void
bf16_store_tile(const int rows, __m512 acc[][4], float *restrict c, ptrdiff_t ldc, float beta, ptrdiff_t nr) {
    const __m512 vb = _mm512_set1_ps(beta);
    if (nr == ATTEND_BF16_NR) {
        for (int i = 0; i < rows; ++i) {
            float *dst = c + i * ldc;
            for (int q = 0; q < 4; ++q) {
                __m512 v = acc[i][q];
                if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_mul_ps(vb, _mm512_loadu_ps(dst + 16 * q)));
                _mm512_storeu_ps(dst + 16 * q, v);
            }
        }
        return;
    }
    for (int i = 0; i < rows; ++i) {
        float *dst = c + i * ldc;
        for (int q = 0; q < 4; ++q) {
            const __mmask16 km = attend_mask16(nr - 16 * q);
            if (!km) break;
            __m512 v = acc[i][q];
            if (beta != 0.0f) v = _mm512_add_ps(v, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(km, dst + 16 * q)));
            _mm512_mask_storeu_ps(dst + 16 * q, km, v);
        }
    }
}

#endif
