// The C library's allocator, tuned for a process that runs models (see attend_kernels.h).
#include "attend_kernels.h"
#include <stdlib.h>   // defines __GLIBC__ (through features.h) on glibc: without a libc header the check below is always false
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int attend_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // Blocks up to 32 MiB from the heap (not fresh mmap pages); keep up to 256 MiB of freed space at its top
    // (a batch of 32 long sentences frees 50–70 MiB at a time: over the MiniLM benchmark sets the heap shrank and regrew
    // with 560 k page faults at 64 MiB, 37 k at 256 MiB; 1.36 M untuned).
    // One arena for every thread: a thread that is not the main one otherwise gets its own arena of 64 MiB
    // mmap'd heaps, and such a heap is unmapped as soon as its last block is freed, trim threshold or not, so a
    // thread embedding its own batches (SentenceEmbedder.embed on two threads) faulted in 25 MiB tensors afresh on
    // every batch (long set: 691 k page faults, 57 k with one arena). Small blocks still come from each thread's
    // own cache (tcache) without taking the arena's lock.
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1
        && mallopt(M_ARENA_MAX, 1) == 1;
#else
    return 0;
#endif
}
