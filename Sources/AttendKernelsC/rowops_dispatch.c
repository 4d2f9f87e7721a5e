// The row kernels on this CPU's best ISA, for C callers (attend_rowops.h); attend_rowops_for, the
// picker, is in dispatch.c with the other families'.
#include "attend_rowops.h"

/// The best ISA's table, looked up once (a race only stores the same pointer twice).
static const attend_rowops *best_rowops(void) {
    static const attend_rowops *best;
    const attend_rowops *t = __atomic_load_n(&best, __ATOMIC_ACQUIRE);
    if (!t) {
        t = attend_rowops_for(attend_detect_isa());
        __atomic_store_n(&best, t, __ATOMIC_RELEASE);
    }
    return t;
}

void attend_bias_act(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy, const float *bias, int act) {
    best_rowops()->bias_act(y, rows, cols, ldy, bias, act);
}

void attend_add_layernorm(const float *x, const float *r, float *y, ptrdiff_t rows, ptrdiff_t cols,
                          ptrdiff_t ldx, ptrdiff_t ldr, ptrdiff_t ldy, const float *gamma,
                          const float *beta, float eps) {
    best_rowops()->add_layernorm(x, r, y, rows, cols, ldx, ldr, ldy, gamma, beta, eps);
}

void attend_layernorm(const float *x, float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx,
                      ptrdiff_t ldy, const float *gamma, const float *beta, float eps) {
    best_rowops()->add_layernorm(x, 0, y, rows, cols, ldx, 0, ldy, gamma, beta, eps);
}

void attend_softmax_rows(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx) {
    best_rowops()->softmax_rows(x, rows, cols, ldx);
}

void attend_gelu(float *x, ptrdiff_t count, int approximate) {
    best_rowops()->bias_act(x, 1, count, count, 0, approximate ? ATTEND_ACT_GELU_TANH : ATTEND_ACT_GELU);
}
