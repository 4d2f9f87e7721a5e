// Fused-attention micro-kernels for AArch64 Advanced SIMD: not written yet, so arm64 uses the
// generic table (attention_generic.c), which the compiler vectorises for NEON.
#include "attend_attention.h"

const attend_attention_ukernel *attend_attention_ukernel_neon(void) { return 0; }
