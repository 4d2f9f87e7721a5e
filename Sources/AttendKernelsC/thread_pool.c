// A small persistent thread pool for the kernels' fork-join loops.
//
// GCD's concurrentPerform wakes its workers on demand; on a 2-vCPU VM that took 5 µs to over
// 700 µs, often longer than a whole small GEMM. These workers instead spin briefly after each job
// (so back-to-back kernels find them awake; yielding to any other runnable thread meanwhile),
// then sleep on a condition variable.
//
// One job runs at a time. A caller that finds the pool busy (another thread's kernel, or a kernel
// nested inside a pool task) runs its tasks itself, one after another, so every task always runs.
// So concurrent callers (two Swift tasks each running a kernel) are safe and never wait for each
// other: the first holds the pool (pool_busy, taken with trylock), the others compute on their own
// threads; slots and the worker count are written only by the pool's holder, and a slot's fields
// are published to its worker by the release store of SLOT_POSTED (and handed back by SLOT_DONE).
// Kernels split their work into many more items than tasks and let tasks claim items from a shared
// counter, so a task the caller takes back finds little or nothing left to do.
#include "attend_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <time.h>

#define ATTEND_POOL_MAX 63            // worker threads at most (the caller is task 0)
#define ATTEND_SPIN_NS 100000         // how long an idle worker spins before sleeping

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;  // held by the caller of a job
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static int workers;  // started worker threads (touched only under pool_busy)

// A slot's life per job: the caller fills it and sets POSTED; the worker claims it (POSTED →
// RUNNING) and marks it DONE. A caller that finishes its own task while a slot is still POSTED
// takes it back (POSTED → CANCELLED) and runs that task itself, so it never waits for a worker
// the OS has not scheduled yet (on a busy machine that wait could be a whole time slice).
enum { SLOT_IDLE = 0, SLOT_POSTED, SLOT_RUNNING, SLOT_DONE, SLOT_CANCELLED };

/// One worker's mailbox.
typedef struct {
    attend_task_fn fn;
    void *ctx;
    ptrdiff_t task;
    int state;
    char pad[64 - 3 * sizeof(void *) - sizeof(int)];
} attend_slot;
static attend_slot slots[ATTEND_POOL_MAX] __attribute__((aligned(64)));

static inline int slot_posted(attend_slot *slot) {
    return __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE) == SLOT_POSTED;
}

static void *worker_main(void *arg) {
    attend_slot *slot = &slots[(ptrdiff_t)arg];
    for (;;) {
        if (!slot_posted(slot)) {
            const long long deadline = now_ns() + ATTEND_SPIN_NS;
            int spins = 0;
            while (!slot_posted(slot)) {
                cpu_relax();
                if (++spins % 64 == 0) {
                    if (now_ns() > deadline) break;
                    sched_yield();  // cede the core at once if another thread wants it
                }
            }
            if (!slot_posted(slot)) {
                pthread_mutex_lock(&wake_lock);
                while (!slot_posted(slot)) pthread_cond_wait(&wake_cond, &wake_lock);
                pthread_mutex_unlock(&wake_lock);
            }
        }
        int expected = SLOT_POSTED;
        if (__atomic_compare_exchange_n(&slot->state, &expected, SLOT_RUNNING, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            slot->fn(slot->ctx, slot->task);
            __atomic_store_n(&slot->state, SLOT_DONE, __ATOMIC_RELEASE);
        }
    }
    return 0;
}

void attend_parallel_run(ptrdiff_t width, attend_task_fn fn, void *ctx) {
    if (width < 1) return;
    if (width > ATTEND_POOL_MAX + 1) width = ATTEND_POOL_MAX + 1;
    if (width == 1 || pthread_mutex_trylock(&pool_busy) != 0) {
        for (ptrdiff_t t = 0; t < width; ++t) fn(ctx, t);
        return;
    }
    while (workers < width - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attr, worker_main, (void *)(ptrdiff_t)workers);
        pthread_attr_destroy(&attr);
        if (failed) break;
        ++workers;
    }
    const ptrdiff_t helpers = width - 1 < workers ? width - 1 : workers;
    for (ptrdiff_t i = 0; i < helpers; ++i) {
        slots[i].fn = fn;
        slots[i].ctx = ctx;
        slots[i].task = i + 1;
        __atomic_store_n(&slots[i].state, SLOT_POSTED, __ATOMIC_RELEASE);
    }
    pthread_mutex_lock(&wake_lock);  // a worker about to sleep holds this: no lost wake-up
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);

    fn(ctx, 0);
    for (ptrdiff_t t = helpers + 1; t < width; ++t) fn(ctx, t);  // tasks beyond the threads we have

    for (ptrdiff_t i = 0; i < helpers; ++i) {
        int expected = SLOT_POSTED;
        if (__atomic_compare_exchange_n(&slots[i].state, &expected, SLOT_CANCELLED, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            fn(ctx, i + 1);  // the worker never started: run its task here
            continue;
        }
        int spins = 0;
        while (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) != SLOT_DONE) {
            cpu_relax();
            if (++spins > 4096) sched_yield();
        }
    }
    pthread_mutex_unlock(&pool_busy);
}
