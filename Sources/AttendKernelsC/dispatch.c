// The ISA picker (attend_isa_pick, isa_pick.h) and every kernel family's `_for` function: one place
// maps a requested ISA to the tables that run it, with the fallback rule written once.
#include "attend_kernels.h"
#include "attend_attention.h"
#include "attend_bf16.h"
#include "attend_rowops.h"
#include "attend_scan.h"
#include "isa_pick.h"

attend_isa attend_detect_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return ATTEND_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ATTEND_ISA_AVX2;
    return ATTEND_ISA_GENERIC;
#elif defined(__aarch64__)
    return ATTEND_ISA_NEON;
#else
    return ATTEND_ISA_GENERIC;
#endif
}

int attend_isa_supported(attend_isa isa) {
    switch (isa) {
    case ATTEND_ISA_GENERIC:
        return 1;
#if defined(__x86_64__)
    case ATTEND_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ATTEND_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case ATTEND_ISA_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

attend_isa attend_isa_fallback(attend_isa isa) {
    return isa == ATTEND_ISA_AVX512 ? ATTEND_ISA_AVX2 : ATTEND_ISA_GENERIC;
}

const void *attend_isa_pick(attend_isa isa, const attend_isa_family *family) {
    if ((unsigned)isa >= ATTEND_ISA_COUNT || !attend_isa_supported(isa)) isa = ATTEND_ISA_GENERIC;
    for (;;) {
        const void *t = family->table[isa] ? family->table[isa]() : NULL;
        if (t || isa == ATTEND_ISA_GENERIC) return t;
        isa = attend_isa_fallback(isa);
    }
}

// MARK: - The families' pickers (their per-ISA getters are defined in the ISA files)

// SGEMM: sgemm_{generic,avx2,avx512,neon}.c.
const attend_sgemm_ukernel *attend_sgemm_ukernel_generic(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx512(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_neon(void);
ATTEND_ISA_TABLE(attend_sgemm_ukernel_generic)
ATTEND_ISA_TABLE(attend_sgemm_ukernel_avx2)
ATTEND_ISA_TABLE(attend_sgemm_ukernel_avx512)
ATTEND_ISA_TABLE(attend_sgemm_ukernel_neon)

const attend_sgemm_ukernel *attend_sgemm_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{
        attend_sgemm_ukernel_generic_table, attend_sgemm_ukernel_avx2_table,
        attend_sgemm_ukernel_avx512_table, attend_sgemm_ukernel_neon_table,
    }};
    return (const attend_sgemm_ukernel *)attend_isa_pick(isa, &family);
}

// Fused attention: attention_{generic,avx2,avx512,neon}.c.
const attend_attention_ukernel *attend_attention_ukernel_generic(void);
const attend_attention_ukernel *attend_attention_ukernel_avx2(void);
const attend_attention_ukernel *attend_attention_ukernel_avx512(void);
const attend_attention_ukernel *attend_attention_ukernel_neon(void);
ATTEND_ISA_TABLE(attend_attention_ukernel_generic)
ATTEND_ISA_TABLE(attend_attention_ukernel_avx2)
ATTEND_ISA_TABLE(attend_attention_ukernel_avx512)
ATTEND_ISA_TABLE(attend_attention_ukernel_neon)

const attend_attention_ukernel *attend_attention_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{
        attend_attention_ukernel_generic_table, attend_attention_ukernel_avx2_table,
        attend_attention_ukernel_avx512_table, attend_attention_ukernel_neon_table,
    }};
    return (const attend_attention_ukernel *)attend_isa_pick(isa, &family);
}

// Row ops: rowops_{generic,avx2,avx512}.c (NEON: the generic code, whose 4-float vectors compile to NEON).
const attend_rowops *attend_rowops_generic(void);
const attend_rowops *attend_rowops_avx2(void);
const attend_rowops *attend_rowops_avx512(void);
ATTEND_ISA_TABLE(attend_rowops_generic)
ATTEND_ISA_TABLE(attend_rowops_avx2)
ATTEND_ISA_TABLE(attend_rowops_avx512)

const attend_rowops *attend_rowops_for(attend_isa isa) {
    static const attend_isa_family family = {{
        attend_rowops_generic_table, attend_rowops_avx2_table, attend_rowops_avx512_table, NULL,
    }};
    return (const attend_rowops *)attend_isa_pick(isa, &family);
}

// Scan score kernels: scan_{generic,avx2,avx512,neon}.c (AVX2 also needs F16C).
const attend_scan_ukernel *attend_scan_ukernel_generic(void);
const attend_scan_ukernel *attend_scan_ukernel_avx2(void);
const attend_scan_ukernel *attend_scan_ukernel_avx512(void);
const attend_scan_ukernel *attend_scan_ukernel_neon(void);
static const attend_scan_ukernel *scan_avx2_if_f16c(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("f16c")) return attend_scan_ukernel_avx2();
#endif
    return NULL;
}
ATTEND_ISA_TABLE(attend_scan_ukernel_generic)
ATTEND_ISA_TABLE(scan_avx2_if_f16c)
ATTEND_ISA_TABLE(attend_scan_ukernel_avx512)
ATTEND_ISA_TABLE(attend_scan_ukernel_neon)

const attend_scan_ukernel *attend_scan_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{
        attend_scan_ukernel_generic_table, scan_avx2_if_f16c_table,
        attend_scan_ukernel_avx512_table, attend_scan_ukernel_neon_table,
    }};
    return (const attend_scan_ukernel *)attend_isa_pick(isa, &family);
}

// bf16 GEMM: gemm_bf16_*.c; AVX-512 is the native BF16 set when the CPU has AVX512_BF16, else the
// AVX-512F widening set (attend_bf16_ukernel_kind checks the features).
static const attend_bf16_ukernel *bf16_portable(void) { return attend_bf16_ukernel_kind(ATTEND_BF16_KERNEL_PORTABLE); }
static const attend_bf16_ukernel *bf16_avx2(void) { return attend_bf16_ukernel_kind(ATTEND_BF16_KERNEL_AVX2); }
static const attend_bf16_ukernel *bf16_avx512(void) {
    const attend_bf16_ukernel *u = attend_bf16_ukernel_kind(ATTEND_BF16_KERNEL_AVX512BF16);
    return u ? u : attend_bf16_ukernel_kind(ATTEND_BF16_KERNEL_AVX512F);
}
ATTEND_ISA_TABLE(bf16_portable)
ATTEND_ISA_TABLE(bf16_avx2)
ATTEND_ISA_TABLE(bf16_avx512)

const attend_bf16_ukernel *attend_bf16_ukernel_for(attend_isa isa) {
    static const attend_isa_family family = {{ bf16_portable_table, bf16_avx2_table, bf16_avx512_table, NULL }};
    return (const attend_bf16_ukernel *)attend_isa_pick(isa, &family);
}

ptrdiff_t attend_fetch_add(ptrdiff_t *counter, ptrdiff_t v) {
    return __atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}
