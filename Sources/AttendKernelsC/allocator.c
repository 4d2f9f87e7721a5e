// The C library's allocator, tuned for a process that runs models (see attend_kernels.h).
#include "attend_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int attend_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // Blocks up to 32 MiB from the heap (not fresh mmap pages); keep up to 64 MiB of freed space at its top.
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
#else
    return 0;
#endif
}
