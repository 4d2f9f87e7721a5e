#ifndef ATTEND_KERNELS_H
#define ATTEND_KERNELS_H
#include <stddef.h>

/// Instruction-set levels the micro-kernels are compiled for, picked once at run time.
typedef enum {
    ATTEND_ISA_GENERIC = 0,
    ATTEND_ISA_AVX2 = 1,
    ATTEND_ISA_AVX512 = 2,
    ATTEND_ISA_NEON = 3,
} attend_isa;

/// The best ISA this CPU supports.
attend_isa attend_detect_isa(void);

#endif
