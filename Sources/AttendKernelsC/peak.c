// The arithmetic-peak probes of attend_peak.h: ATTEND_PEAK_CHAINS independent register-only chains of
// one instruction per ISA. See the header for what is counted.
#include "attend_peak.h"
#include "attend_int8.h"   // attend_cpu_has_neon_dotprod
#include "isa_pick.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#define C ATTEND_PEAK_CHAINS

// The starting values and constants are read through volatiles: with compile-time constants the compiler folds the
// first round, sees acc·a + b round back to acc (a fixed point in float32) and deletes the loop.
static volatile float peak_start = 1.0f, peak_a = 0.999999f, peak_b = 1e-6f;

// MARK: - fp32

/// Scalar multiply-adds (the compiler may vectorise them for the baseline ISA: that is the generic rate).
static float peak_fp32_generic(int64_t iterations, double *ops) {
    float acc[C];
    for (int c = 0; c < C; c++) acc[c] = peak_start + 0.001f * (float)c;
    const float a = peak_a, b = peak_b;
    for (int64_t i = 0; i < iterations; i++) {
        for (int c = 0; c < C; c++) acc[c] = acc[c] * a + b;
    }
    float s = 0;
    for (int c = 0; c < C; c++) s += acc[c];
    *ops = 2.0 * C * (double)iterations;
    return s;
}

#if defined(__x86_64__)
#define PEAK_FMA_LOOP(VEC, SET1, FMA, ADD, REDUCE, LANES, C)                                        \
    VEC acc[C];                                                                                   \
    for (int c = 0; c < C; c++) acc[c] = SET1(peak_start + 0.001f * (float)c);                    \
    const VEC a = SET1(peak_a), b = SET1(peak_b);                                                 \
    for (int64_t i = 0; i < iterations; i++) {                                                     \
        _Pragma("clang loop unroll(full)") for (int c = 0; c < C; c++) acc[c] = FMA(acc[c], a, b); \
    }                                                                                              \
    VEC s = acc[0];                                                                                \
    for (int c = 1; c < C; c++) s = ADD(s, acc[c]);                                                \
    *ops = 2.0 * LANES * C * (double)iterations;                                                   \
    return REDUCE(s);

__attribute__((target("avx2,fma"))) static float reduce256(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

__attribute__((target("avx2,fma"))) static float peak_fp32_avx2(int64_t iterations, double *ops) {
    PEAK_FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, reduce256, 8, 12)  // 16 ymm registers: 12 chains + a, b
}

__attribute__((target("avx512f,fma"))) static float peak_fp32_avx512(int64_t iterations, double *ops) {
    PEAK_FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps, 16, C)
}
#endif

#if defined(__aarch64__)
static float peak_fp32_neon(int64_t iterations, double *ops) {
    float32x4_t acc[C];
    for (int c = 0; c < C; c++) acc[c] = vdupq_n_f32(peak_start + 0.001f * (float)c);
    const float32x4_t a = vdupq_n_f32(peak_a), b = vdupq_n_f32(peak_b);
    for (int64_t i = 0; i < iterations; i++) {
        for (int c = 0; c < C; c++) acc[c] = vfmaq_f32(b, acc[c], a);
    }
    float32x4_t s = acc[0];
    for (int c = 1; c < C; c++) s = vaddq_f32(s, acc[c]);
    *ops = 2.0 * 4 * C * (double)iterations;
    return vaddvq_f32(s);
}
#endif

/// One ISA's fp32 probe, as a table for the ISA picker (isa_pick.h).
typedef struct {
    float (*run)(int64_t iterations, double *ops);
} fp32_probe;

static const fp32_probe fp32_generic = {peak_fp32_generic};
static const void *fp32_generic_table(void) { return &fp32_generic; }
#if defined(__x86_64__)
static const fp32_probe fp32_avx2 = {peak_fp32_avx2}, fp32_avx512 = {peak_fp32_avx512};
static const void *fp32_avx2_table(void) { return &fp32_avx2; }
static const void *fp32_avx512_table(void) { return &fp32_avx512; }
#else
#define fp32_avx2_table NULL
#define fp32_avx512_table NULL
#endif
#if defined(__aarch64__)
static const fp32_probe fp32_neon = {peak_fp32_neon};
static const void *fp32_neon_table(void) { return &fp32_neon; }
#else
#define fp32_neon_table NULL
#endif

float attend_peak_fp32(attend_isa isa, int64_t iterations, double *ops) {
    static const attend_isa_family family = {{fp32_generic_table, fp32_avx2_table, fp32_avx512_table, fp32_neon_table}};
    return ((const fp32_probe *)attend_isa_pick(isa, &family))->run(iterations, ops);
}

// MARK: - int8

static int32_t peak_int8_generic(int64_t iterations, double *ops) {
    int32_t acc[C];
    for (int c = 0; c < C; c++) acc[c] = c;
    const int32_t b = -2;  // one u8·s8 product per chain per round, the u8 read from the accumulator
    for (int64_t i = 0; i < iterations; i++) {
        for (int c = 0; c < C; c++) acc[c] += (int32_t)(uint8_t)acc[c] * b;
    }
    int32_t s = 0;
    for (int c = 0; c < C; c++) s += acc[c];
    *ops = 2.0 * C * (double)iterations;
    return s;
}

#if defined(__x86_64__)
#define CY 12  // chains on ymm: AVX2 has 16 ymm registers, two hold constants

__attribute__((target("avx2"))) static int32_t reduce256i(__m256i v) {
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
    return _mm_cvtsi128_si32(x);
}

/// AVX2 without VNNI: 32 u8·s8 products → 16 s16 pair sums (vpmaddubsw) → 8 s32 (vpmaddwd with ones) → += .
__attribute__((target("avx2"))) static int32_t peak_int8_avx2(int64_t iterations, double *ops) {
    __m256i acc[CY];
    for (int c = 0; c < CY; c++) acc[c] = _mm256_set1_epi32(c);
    const __m256i s = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < iterations; i++) {
        // The unsigned operand is the accumulator's own bytes, so the products cannot be hoisted out of the
        // loop (wrapping is fine: only the rate matters).
        _Pragma("clang loop unroll(full)") for (int c = 0; c < CY; c++)
            acc[c] = _mm256_add_epi32(acc[c], _mm256_madd_epi16(_mm256_maddubs_epi16(acc[c], s), ones));
    }
    __m256i t = acc[0];
    for (int c = 1; c < CY; c++) t = _mm256_add_epi32(t, acc[c]);
    *ops = 2.0 * 32 * CY * (double)iterations;
    return reduce256i(t);
}

__attribute__((target("avx2,avxvnni"))) static int32_t peak_int8_avxvnni(int64_t iterations, double *ops) {
    __m256i acc[CY];
    for (int c = 0; c < CY; c++) acc[c] = _mm256_set1_epi32(c);
    const __m256i u = _mm256_set1_epi8(3), s = _mm256_set1_epi8(-2);
    for (int64_t i = 0; i < iterations; i++) {
        _Pragma("clang loop unroll(full)") for (int c = 0; c < CY; c++) acc[c] = _mm256_dpbusd_avx_epi32(acc[c], u, s);
    }
    __m256i t = acc[0];
    for (int c = 1; c < CY; c++) t = _mm256_add_epi32(t, acc[c]);
    *ops = 2.0 * 32 * CY * (double)iterations;
    return reduce256i(t);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static int32_t peak_int8_avx512vnni(int64_t iterations, double *ops) {
    __m512i acc[C];
    for (int c = 0; c < C; c++) acc[c] = _mm512_set1_epi32(c);
    const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
    for (int64_t i = 0; i < iterations; i++) {
        _Pragma("clang loop unroll(full)") for (int c = 0; c < C; c++) acc[c] = _mm512_dpbusd_epi32(acc[c], u, s);
    }
    __m512i t = acc[0];
    for (int c = 1; c < C; c++) t = _mm512_add_epi32(t, acc[c]);
    *ops = 2.0 * 64 * C * (double)iterations;
    return _mm512_reduce_add_epi32(t);
}

/// AVX-512BW without VNNI: the AVX2 sequence on zmm.
__attribute__((target("avx512f,avx512bw"))) static int32_t peak_int8_avx512bw(int64_t iterations, double *ops) {
    __m512i acc[C];
    for (int c = 0; c < C; c++) acc[c] = _mm512_set1_epi32(c);
    const __m512i s = _mm512_set1_epi8(-2), ones = _mm512_set1_epi16(1);
    for (int64_t i = 0; i < iterations; i++) {
        _Pragma("clang loop unroll(full)") for (int c = 0; c < C; c++)
            acc[c] = _mm512_add_epi32(acc[c], _mm512_madd_epi16(_mm512_maddubs_epi16(acc[c], s), ones));
    }
    __m512i t = acc[0];
    for (int c = 1; c < C; c++) t = _mm512_add_epi32(t, acc[c]);
    *ops = 2.0 * 64 * C * (double)iterations;
    return _mm512_reduce_add_epi32(t);
}
#endif

#if defined(__aarch64__)
// Compiled for the dot product through a target attribute (a plain build's baseline is Armv8.0) and picked only when
// the CPU reports it, like the int8 GEMM's dot-product set (gemm_int8_neon.c).
__attribute__((target("dotprod"))) static int32_t peak_int8_neon(int64_t iterations, double *ops) {
    int32x4_t acc[C];
    for (int c = 0; c < C; c++) acc[c] = vdupq_n_s32(c);
    const int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(-2);
    for (int64_t i = 0; i < iterations; i++) {
        for (int c = 0; c < C; c++) acc[c] = vdotq_s32(acc[c], a, b);
    }
    int32x4_t t = acc[0];
    for (int c = 1; c < C; c++) t = vaddq_s32(t, acc[c]);
    *ops = 2.0 * 16 * C * (double)iterations;
    return vaddvq_s32(t);
}
#endif

/// One ISA's int8 probe and its short name, as a table for the ISA picker (isa_pick.h). The AVX-512 table
/// is NULL on AVX-512F without BW (no byte products), so the picker falls back to the AVX2 sequence.
typedef struct {
    int32_t (*run)(int64_t iterations, double *ops);
    const char *variant;
} int8_probe;

static const int8_probe int8_generic = {peak_int8_generic, "scalar int32 multiply-add"};
static const void *int8_generic_table(void) { return &int8_generic; }
#if defined(__x86_64__)
static const int8_probe int8_avx2 = {peak_int8_avx2, "vpmaddubsw+vpmaddwd+vpaddd ymm (AVX2)"},
                        int8_avxvnni = {peak_int8_avxvnni, "vpdpbusd ymm (AVX-VNNI)"},
                        int8_avx512bw = {peak_int8_avx512bw, "vpmaddubsw+vpmaddwd+vpaddd zmm (AVX-512BW)"},
                        int8_avx512vnni = {peak_int8_avx512vnni, "vpdpbusd zmm (AVX-512 VNNI)"};
static const void *int8_avx2_table(void) {
    return __builtin_cpu_supports("avxvnni") ? &int8_avxvnni : &int8_avx2;
}
static const void *int8_avx512_table(void) {
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return &int8_avx512vnni;
    if (__builtin_cpu_supports("avx512bw")) return &int8_avx512bw;
    return NULL;
}
#else
#define int8_avx2_table NULL
#define int8_avx512_table NULL
#endif
#if defined(__aarch64__)
static const int8_probe int8_neon = {peak_int8_neon, "sdot (NEON dot product)"};
static const void *int8_neon_table(void) { return attend_cpu_has_neon_dotprod() ? &int8_neon : NULL; }
#else
#define int8_neon_table NULL
#endif

int32_t attend_peak_int8(attend_isa isa, int64_t iterations, double *ops, const char **variant) {
    static const attend_isa_family family = {{int8_generic_table, int8_avx2_table, int8_avx512_table, int8_neon_table}};
    const int8_probe *probe = (const int8_probe *)attend_isa_pick(isa, &family);
    *variant = probe->variant;
    return probe->run(iterations, ops);
}
