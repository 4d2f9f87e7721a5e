// Timing of the AVX-512 fused-attention micro-kernels one at a time, outside SwiftPM and outside the driver: the
// scores tile (S = c_s·Q Kᵀ), the P V tile and the online-softmax step, each on one 6-row strip against n keys of one
// d = 64 head, with the operands in L1/L2 as the driver leaves them. It answers "how fast can this step be on this
// core", which the whole kernel's profile cannot: run one copy for a core alone, two at once for both cores busy.
// Not part of `swift test` (it includes attention_avx512.c to reach its static table; x86-64 with AVX-512 only).
//
//   S=Sources/AttendKernelsC; clang -O2 -I$S -I$S/include Benchmarks/attention_ukernel_bench.c -lm -o /tmp/ukb
//   /tmp/ukb            # n = 512 and 128: GFLOPS of scores and pv, ns per 16-lane vector of the softmax step
//   /tmp/ukb & /tmp/ukb # both cores busy
#include "attention_avx512.c"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

enum { D = 64, ROW = 768, KEYS = 512, ROUNDS = 3 };   // a [B, T, 12, 64] activation: rows 768 floats apart

/// Best of ROUNDS timings of `iters` calls of the scores and pv tiles over n keys, as GFLOPS (2 per multiply-add).
static void products(int n, int iters) {
    float *q = aligned_alloc(64, 96 * ROW * sizeof(float)), *kt = aligned_alloc(64, KEYS * D * sizeof(float));
    float *v = aligned_alloc(64, KEYS * ROW * sizeof(float)), *s = aligned_alloc(64, 6 * KEYS * sizeof(float));
    float *o = aligned_alloc(64, 6 * D * sizeof(float)), alpha[6] = { 1, 1, 1, 1, 1, 1 };
    for (int i = 0; i < 96 * ROW; ++i) q[i] = 0.01f * (float)(i % 7);
    for (int i = 0; i < KEYS * D; ++i) kt[i] = 0.01f * (float)(i % 5);
    for (int i = 0; i < KEYS * ROW; ++i) v[i] = 0.01f * (float)(i % 3);
    memset(o, 0, 6 * D * sizeof(float));
    double best_s = 1e9, best_pv = 1e9;
    for (int round = 0; round < ROUNDS; ++round) {
        double t0 = now();
        for (int i = 0; i < iters; ++i) table.scores(6, n, D, q + (i % 16) * 6 * ROW, ROW, kt, s, KEYS, 0.18f);
        double t1 = now();
        for (int i = 0; i < 6 * KEYS; ++i) s[i] = 1.0f / KEYS;   // P for the pv tile (scores wrote S there)
        double t2 = now();
        for (int i = 0; i < iters; ++i) table.pv(6, n, D, s, KEYS, v, ROW, alpha, o, D, o, D, NULL);
        double t3 = now();
        if (t1 - t0 < best_s) best_s = t1 - t0;
        if (t3 - t2 < best_pv) best_pv = t3 - t2;
    }
    const double flops = 2.0 * 6 * n * D * iters;
    printf("n = %4d   scores %6.1f GFLOPS   pv %6.1f GFLOPS\n", n, flops / best_s * 1e-9, flops / best_pv * 1e-9);
    free(q), free(kt), free(v), free(s), free(o);
}

/// Best of ROUNDS timings of the softmax step over 6 rows × n keys, unmasked and with a key bias of zeros (the masked
/// path), in ns per 16-lane vector of scores. The step runs on its own output again and again (p ∈ [0, 1] are scores
/// as good as any).
static void softmax_step(int n, int iters) {
    float *s = aligned_alloc(64, 6 * KEYS * sizeof(float)), zeros[KEYS] = { 0 };
    for (int masked = 0; masked < 2; ++masked) {
        float m[6], l[6], alpha[6];
        srand(1);
        for (int i = 0; i < 6 * KEYS; ++i) s[i] = -10.0f * (float)rand() / (float)RAND_MAX;
        for (int r = 0; r < 6; ++r) m[r] = -INFINITY, l[r] = 0.0f;
        attend_softmax_step st = { .mr = 6, .n = n, .s = s, .lds = KEYS, .m = m, .l = l, .alpha = alpha,
                                   .key_bias = masked ? zeros : NULL };
        double best = 1e9;
        for (int round = 0; round < ROUNDS; ++round) {
            double t0 = now();
            for (int i = 0; i < iters; ++i) table.softmax(&st);
            double t = now() - t0;
            if (t < best) best = t;
        }
        printf("n = %4d   softmax step %s %5.3f ns per vector\n", n, masked ? "masked  " : "unmasked",
               best / (6.0 * n / 16 * iters) * 1e9);
    }
    free(s);
}

int main(void) {
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "attention_ukernel_bench: this CPU has no AVX-512F\n");
        return 1;
    }
    for (int n = 512; n >= 128; n /= 4) {
        products(n, 20000 * 512 / n);
        softmax_step(n, 100000 * 512 / n);
    }
    return 0;
}
