#include "attend_kernels.h"

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

// Per-ISA tables, defined in sgemm_*.c (null when this build has no code for that ISA).
const attend_sgemm_ukernel *attend_sgemm_ukernel_generic(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx2(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_avx512(void);
const attend_sgemm_ukernel *attend_sgemm_ukernel_neon(void);

const attend_sgemm_ukernel *attend_sgemm_ukernel_for(attend_isa isa) {
    const attend_sgemm_ukernel *u = 0;
    if (attend_isa_supported(isa)) {
        switch (isa) {
        case ATTEND_ISA_AVX2: u = attend_sgemm_ukernel_avx2(); break;
        case ATTEND_ISA_AVX512: u = attend_sgemm_ukernel_avx512(); break;
        case ATTEND_ISA_NEON: u = attend_sgemm_ukernel_neon(); break;
        default: break;
        }
    }
    return u ? u : attend_sgemm_ukernel_generic();
}

ptrdiff_t attend_fetch_add(ptrdiff_t *counter, ptrdiff_t v) {
    return __atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}
