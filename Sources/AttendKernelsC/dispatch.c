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
