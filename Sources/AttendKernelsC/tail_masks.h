// Row-tail masks, written once per vector width: the lanes [0, count) of a vector, for loads and
// stores that must neither read nor write past a row's end. `static inline` with the narrowest target
// that has the instructions, so each ISA file inlines them into its own target-attributed kernels.
#ifndef ATTEND_TAIL_MASKS_H
#define ATTEND_TAIL_MASKS_H
#include <stddef.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// AVX2, 8 floats: lanes [0, count) all ones, the rest zero (count clamped to 0…8), as a
/// vmaskmovps (`_mm256_maskload_ps` / `_mm256_maskstore_ps`) or blend mask.
static inline __attribute__((always_inline, target("avx2"))) __m256i attend_mask8(ptrdiff_t count) {
    if (count > 8) count = 8;
    if (count < 0) count = 0;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// AVX-512, 16 floats: bits [0, count) of a k-mask (count clamped to 0…16).
static inline __attribute__((always_inline, target("avx512f"))) __mmask16 attend_mask16(ptrdiff_t count) {
    if (count >= 16) return (__mmask16)0xFFFF;
    if (count <= 0) return 0;
    return (__mmask16)((1u << count) - 1u);
}
#endif

#endif
