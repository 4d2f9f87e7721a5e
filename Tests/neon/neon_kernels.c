// The NEON kernels against plain references and against the generic kernels, run under qemu-aarch64 on machines
// without an Arm CPU (Tests/neon/run.sh builds it with Sources/AttendKernelsC for aarch64). The Swift tests force
// every ISA the CPU has; on x86-64 that never includes NEON, so this is where the NEON files are executed.
//
// Families: SGEMM (micro-kernel + packing, and the A·Bᵀ dot kernel if any), fused attention (the whole C driver:
// masks, causal offsets, grouped heads, weights and log-sum-exp outputs), row ops, exact-search scores and top-k,
// and the int8 GEMM, whose dot-product set (`sdot`) must match the portable set bit for bit.
//
// Tolerances: a float result passes when |got − ref| ≤ ATOL + RTOL · mag, with ref computed in double and mag the
// sum of the magnitudes of the terms that made it (Σ|a·b| for a dot product), so the bound scales with the
// rounding error a float32 accumulation can have and nothing else.
//
// Exit status: 0 when every check passed; 1 otherwise (each failure is printed with its shape and error).
// `--expect-no-dotprod` (run on a CPU model without the dot product) checks instead that the dot-product set is
// not offered and that the int8 picker falls back to the portable set; `--native` (on an Arm machine) runs every
// check and expects the dot-product set exactly when the CPU reports it.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attend_attention.h"
#include "attend_int8.h"
#include "attend_kernels.h"
#include "attend_peak.h"
#include "attend_rowops.h"
#include "attend_scan.h"

static const double ATOL = 1e-6, RTOL = 2e-6;
static long checks = 0, failures = 0;

// MARK: - Helpers

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {   // in [−1, 1)
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}
static float *randoms(ptrdiff_t n, float scale) {
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (ptrdiff_t i = 0; i < n; ++i) x[i] = uniform() * scale;
    return x;
}
static void *aligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    memset(p, 0, bytes ? bytes : 64);
    return p;
}

/// Checks one value; prints the first few failures of a family.
static void expect_close(const char *what, double got, double ref, double mag) {
    ++checks;
    double err = fabs(got - ref), bound = ATOL + RTOL * mag;
    if (!(err <= bound) && !(isinf(ref) && got == ref)) {
        if (++failures <= 20) fprintf(stderr, "FAIL %s: got %.9g, want %.9g (|err| %.3g > %.3g)\n", what, got, ref, err, bound);
    }
}
static void expect_true(const char *what, int ok) {
    ++checks;
    if (!ok && ++failures <= 20) fprintf(stderr, "FAIL %s\n", what);
}

static const ptrdiff_t SIZES[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65};
enum { NSIZES = sizeof SIZES / sizeof SIZES[0] };

// MARK: - SGEMM

/// C = alpha·op(A)·op(B) + beta·C through the micro-kernel set `u`: whole-matrix packing (mc = m, kc = k, nc = n).
static void gemm_through(const attend_sgemm_ukernel *u, int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                         float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                         float *c, ptrdiff_t ldc) {
    const ptrdiff_t mr = u->mr, nr = u->nr, ms = (m + mr - 1) / mr, ns = (n + nr - 1) / nr;
    float *ap = aligned((size_t)(ms * mr * k) * sizeof(float)), *bp = aligned((size_t)(ns * nr * k) * sizeof(float));
    u->pack_a(ta, a, lda, m, k, ap);
    u->pack_b(tb, b, ldb, k, n, bp);
    for (ptrdiff_t s = 0; s < ms; ++s)
        for (ptrdiff_t t = 0; t < ns; ++t) {
            ptrdiff_t rows = m - s * mr < mr ? m - s * mr : mr, cols = n - t * nr < nr ? n - t * nr : nr;
            u->kernel(k, ap + s * k * mr, bp + t * k * nr, nr, c + s * mr * ldc + t * nr, ldc, alpha, beta, rows, cols);
        }
    free(ap);
    free(bp);
}

static void check_sgemm(void) {
    const attend_sgemm_ukernel *u = attend_sgemm_ukernel_for(ATTEND_ISA_NEON);
    expect_true("sgemm: the NEON set is picked", u->isa == ATTEND_ISA_NEON);
    long before = failures;
    char what[160];
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (int mi = 0; mi < NSIZES; mi += 1)
                for (int ni = 0; ni < NSIZES; ni += 1)
                    for (int ki = 0; ki < NSIZES; ki += 2) {
                        ptrdiff_t m = SIZES[mi], n = SIZES[ni], k = SIZES[ki];
                        ptrdiff_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
                        float *a = randoms((ta ? k : m) * lda, 1), *b = randoms((tb ? n : k) * ldb, 1);
                        float *c0 = randoms(m * ldc, 1), *c = malloc((size_t)(m * ldc) * sizeof(float));
                        for (int betai = 0; betai < 2; ++betai) {
                            const float alpha = betai ? 0.75f : 1.0f, beta = betai ? 0.5f : 0.0f;
                            memcpy(c, c0, (size_t)(m * ldc) * sizeof(float));
                            gemm_through(u, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                            for (ptrdiff_t i = 0; i < m; ++i)
                                for (ptrdiff_t j = 0; j < n; ++j) {
                                    double ref = 0, mag = 0;
                                    for (ptrdiff_t p = 0; p < k; ++p) {
                                        double x = ta ? a[p * lda + i] : a[i * lda + p];
                                        double y = tb ? b[j * ldb + p] : b[p * ldb + j];
                                        ref += x * y;
                                        mag += fabs(x * y);
                                    }
                                    ref = alpha * ref + (beta != 0 ? beta * (double)c0[i * ldc + j] : 0);
                                    mag = fabs(alpha) * mag + fabs(beta * c0[i * ldc + j]);
                                    snprintf(what, sizeof what, "sgemm ta=%d tb=%d m=%td n=%td k=%td beta=%g (%td,%td)",
                                             ta, tb, m, n, k, beta, i, j);
                                    expect_close(what, c[i * ldc + j], ref, mag);
                                }
                            for (ptrdiff_t i = 0; i < m; ++i)   // the padding columns are left alone
                                for (ptrdiff_t j = n; j < ldc; ++j)
                                    if (c[i * ldc + j] != c0[i * ldc + j]) expect_true("sgemm wrote past n", 0);
                            if (u->dot && tb && !ta) {   // the dot kernel reads A [m, k] and B [n, k] in place
                                memcpy(c, c0, (size_t)(m * ldc) * sizeof(float));
                                u->dot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                                for (ptrdiff_t i = 0; i < m; ++i)
                                    for (ptrdiff_t j = 0; j < n; ++j) {
                                        double ref = 0, mag = 0;
                                        for (ptrdiff_t p = 0; p < k; ++p) {
                                            ref += (double)a[i * lda + p] * b[j * ldb + p];
                                            mag += fabs((double)a[i * lda + p] * b[j * ldb + p]);
                                        }
                                        ref = alpha * ref + (beta != 0 ? beta * (double)c0[i * ldc + j] : 0);
                                        mag = fabs(alpha) * mag + fabs(beta * c0[i * ldc + j]);
                                        snprintf(what, sizeof what, "sgemm dot m=%td n=%td k=%td (%td,%td)", m, n, k, i, j);
                                        expect_close(what, c[i * ldc + j], ref, mag);
                                    }
                            }
                        }
                        free(a); free(b); free(c0); free(c);
                    }
    printf("sgemm (NEON %dx%d tile%s): %s\n", u->mr, u->nr, u->dot ? ", dot kernel" : "",
           failures == before ? "ok" : "FAILED");
}

// MARK: - Fused attention

typedef struct {
    ptrdiff_t b, h, hkv, lq, lk, dk, dv;
    int causal;
    ptrdiff_t offset;
    int key_mask;      // 0 none, 1 boolean, 2 additive
    int mask;          // 0 none, 1 boolean, 2 additive (per head)
    int outputs;       // weights and lse
} attention_case;

static void check_attention_case(const attention_case *ac, ptrdiff_t threads) {
    const ptrdiff_t B = ac->b, H = ac->h, G = ac->hkv, LQ = ac->lq, LK = ac->lk, DK = ac->dk, DV = ac->dv;
    // Layouts: Q [B, LQ, H, DK] (rows interleave heads, like a fused projection), K/V [B, G, LK, D] (heads outer),
    // O [B, H, LQ, DV]; each row padded by 1 so the kernels never rely on contiguity.
    const ptrdiff_t qrow = H * DK + 1, krow = DK + 1, vrow = DV + 1;
    float *q = randoms(B * LQ * qrow, 2), *k = randoms(B * G * LK * krow, 2), *v = randoms(B * G * LK * vrow, 1);
    float *o = aligned((size_t)(B * H * LQ * DV) * sizeof(float));
    float *km = NULL, *mk = NULL, *w = NULL, *lse = NULL;
    if (ac->key_mask) {
        km = malloc((size_t)(B * LK) * sizeof(float));
        for (ptrdiff_t i = 0; i < B * LK; ++i) {
            int keep = (i % LK) < LK - (i / LK + 1) % 3 || LK == 1;   // a few trailing keys masked per batch
            km[i] = ac->key_mask == 1 ? (float)keep : (keep ? uniform() : -INFINITY);
        }
    }
    if (ac->mask) {
        mk = malloc((size_t)(B * H * LQ * LK) * sizeof(float));
        for (ptrdiff_t i = 0; i < B * H * LQ * LK; ++i) {
            float r = uniform();
            mk[i] = ac->mask == 1 ? (r > -0.6f ? 1.0f : 0.0f) : (r > -0.8f ? 3 * r : -INFINITY);
        }
    }
    if (ac->outputs) {
        w = malloc((size_t)(B * H * LQ * LK) * sizeof(float));
        lse = malloc((size_t)(B * H * LQ) * sizeof(float));
    }
    const float scale = 1.0f / sqrtf((float)DK);
    attend_attention_problem p = {
        .b = B, .h = H, .hkv = G, .lq = LQ, .lk = LK, .dk = DK, .dv = DV,
        .q = q, .q_layout = {LQ * qrow, DK, qrow},
        .k = k, .k_layout = {G * LK * krow, LK * krow, krow},
        .v = v, .v_layout = {G * LK * vrow, LK * vrow, vrow},
        .o = o, .o_layout = {H * LQ * DV, LQ * DV, DV},
        .scale = scale, .causal = ac->causal, .causal_offset = ac->offset,
        .key_mask = km, .key_mask_batch = LK, .key_mask_boolean = ac->key_mask == 1,
        .mask = mk, .mask_batch = H * LQ * LK, .mask_head = LQ * LK, .mask_row = LK, .mask_boolean = ac->mask == 1,
        .weights = w, .lse = lse,
    };
    attend_attention_plan plan;
    ptrdiff_t workers = attend_attention_plan_for(&p, ATTEND_ISA_NEON, threads, &plan);
    expect_true("attention: the NEON kernels are picked", plan.isa == ATTEND_ISA_NEON);
    float *scratch = aligned((size_t)((workers > 0 ? workers : 1) * plan.scratch_floats) * sizeof(float));
    if (workers > 0) attend_attention_run(&p, &plan, workers, scratch);
    free(scratch);

    char what[200];
    double *s = malloc((size_t)LK * sizeof(double));
    for (ptrdiff_t b = 0; b < B; ++b)
        for (ptrdiff_t h = 0; h < H; ++h) {
            const ptrdiff_t g = h / (H / G);
            for (ptrdiff_t i = 0; i < LQ; ++i) {
                double mx = -INFINITY;
                for (ptrdiff_t j = 0; j < LK; ++j) {
                    double x = 0;
                    for (ptrdiff_t c = 0; c < DK; ++c)
                        x += (double)q[b * LQ * qrow + i * qrow + h * DK + c] * k[(b * G + g) * LK * krow + j * krow + c];
                    x *= scale;
                    if (km) x = ac->key_mask == 1 ? (km[b * LK + j] == 0 ? -INFINITY : x) : x + km[b * LK + j];
                    if (mk) {
                        float mv = mk[((b * H + h) * LQ + i) * LK + j];
                        x = ac->mask == 1 ? (mv == 0 ? -INFINITY : x) : x + mv;
                    }
                    if (ac->causal && j > ac->offset + i) x = -INFINITY;
                    s[j] = x;
                    if (x > mx) mx = x;
                }
                double sum = 0;
                for (ptrdiff_t j = 0; j < LK; ++j) sum += (s[j] = isinf(mx) ? 0 : exp(s[j] - mx));
                for (ptrdiff_t c = 0; c < DV; ++c) {
                    double ref = 0, mag = 0;
                    for (ptrdiff_t j = 0; j < LK; ++j) {
                        double pj = sum > 0 ? s[j] / sum : 0, vj = v[(b * G + g) * LK * vrow + j * vrow + c];
                        ref += pj * vj;
                        mag += fabs(pj * vj);
                    }
                    snprintf(what, sizeof what, "attention B%td H%td/%td Lq%td Lk%td d%td/%td causal%d+%td km%d m%d out (%td,%td,%td,%td)",
                             B, H, G, LQ, LK, DK, DV, ac->causal, ac->offset, ac->key_mask, ac->mask, b, h, i, c);
                    expect_close(what, o[((b * H + h) * LQ + i) * DV + c], ref, 8 * mag + 1e-7);
                }
                if (w) {
                    for (ptrdiff_t j = 0; j < LK; ++j) {
                        snprintf(what, sizeof what, "attention weights Lq%td Lk%td d%td causal%d km%d m%d (%td,%td,%td,%td)",
                                 LQ, LK, DK, ac->causal, ac->key_mask, ac->mask, b, h, i, j);
                        expect_close(what, w[((b * H + h) * LQ + i) * LK + j], sum > 0 ? s[j] / sum : 0, 8 * (sum > 0 ? s[j] / sum : 0) + 1e-7);
                    }
                    double ref = sum > 0 ? mx + log(sum) : -INFINITY;
                    snprintf(what, sizeof what, "attention lse Lq%td Lk%td (%td,%td,%td)", LQ, LK, b, h, i);
                    expect_close(what, lse[(b * H + h) * LQ + i], ref, 8 * fabs(ref) + 1e-6);
                }
            }
        }
    free(s); free(q); free(k); free(v); free(o); free(km); free(mk); free(w); free(lse);
}

static void check_attention(void) {
    long before = failures;
    static const ptrdiff_t lens[] = {1, 5, 17, 64, 65, 130};
    static const ptrdiff_t dims[] = {1, 8, 15, 32, 64, 80};
    long cases = 0;
    for (int li = 0; li < 6; ++li)
        for (int lj = 0; lj < 6; ++lj)
            for (int di = 0; di < 6; ++di) {
                attention_case ac = {.b = 2, .h = 4, .hkv = (li + di) % 2 ? 2 : 4, .lq = lens[li], .lk = lens[lj],
                                     .dk = dims[di], .dv = dims[(di + lj) % 6]};
                for (int variant = 0; variant < 4; ++variant) {
                    ac.causal = variant >= 2;
                    ac.offset = ac.causal ? (ac.lk > ac.lq ? ac.lk - ac.lq : 0) * (variant == 3) : 0;
                    ac.key_mask = (variant + li) % 3;
                    ac.mask = (variant + lj + di) % 3;
                    ac.outputs = (variant + li + lj) % 2;
                    check_attention_case(&ac, 1 + (variant % 2));
                    ++cases;
                }
            }
    printf("attention (NEON, %ld problems): %s\n", cases, failures == before ? "ok" : "FAILED");
}

// MARK: - Row ops

static double gelu_ref(double x, int act) {
    if (act == ATTEND_ACT_GELU) return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    if (act == ATTEND_ACT_GELU_TANH) return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    if (act == ATTEND_ACT_RELU) return x > 0 ? x : 0;
    return x;
}

static void check_rowops(void) {
    const attend_rowops *r = attend_rowops_for(ATTEND_ISA_NEON);
    long before = failures;
    char what[160];
    for (int ri = 0; ri < NSIZES; ri += 3)
        for (int ci = 0; ci < NSIZES; ++ci) {
            ptrdiff_t rows = SIZES[ri], cols = SIZES[ci], ld = cols + 3;
            float *x = randoms(rows * ld, 4), *res = randoms(rows * ld, 1), *bias = randoms(cols, 1);
            float *gamma = randoms(cols, 1), *beta = randoms(cols, 1), *y = malloc((size_t)(rows * ld) * sizeof(float));
            for (int act = 0; act < 4; ++act) {
                memcpy(y, x, (size_t)(rows * ld) * sizeof(float));
                r->bias_act(y, rows, cols, ld, act % 2 ? bias : NULL, act);
                for (ptrdiff_t i = 0; i < rows; ++i)
                    for (ptrdiff_t j = 0; j < cols; ++j) {
                        double v = (double)x[i * ld + j] + (act % 2 ? bias[j] : 0), ref = gelu_ref(v, act);
                        snprintf(what, sizeof what, "bias_act act=%d %tdx%td (%td,%td)", act, rows, cols, i, j);
                        expect_close(what, y[i * ld + j], ref, 4 * fabs(v));
                    }
            }
            for (int withr = 0; withr < 2; ++withr) {
                r->add_layernorm(x, withr ? res : NULL, y, rows, cols, ld, ld, ld, gamma, beta, 1e-5f);
                for (ptrdiff_t i = 0; i < rows; ++i) {
                    double mean = 0, var = 0;
                    for (ptrdiff_t j = 0; j < cols; ++j) mean += (double)x[i * ld + j] + (withr ? res[i * ld + j] : 0);
                    mean /= cols;
                    for (ptrdiff_t j = 0; j < cols; ++j) {
                        double d = (double)x[i * ld + j] + (withr ? res[i * ld + j] : 0) - mean;
                        var += d * d;
                    }
                    var /= cols;
                    for (ptrdiff_t j = 0; j < cols; ++j) {
                        double z = ((double)x[i * ld + j] + (withr ? res[i * ld + j] : 0) - mean) / sqrt(var + 1e-5);
                        snprintf(what, sizeof what, "add_layernorm r=%d %tdx%td (%td,%td)", withr, rows, cols, i, j);
                        expect_close(what, y[i * ld + j], z * gamma[j] + beta[j], 8 * (fabs(z * gamma[j]) + fabs(beta[j])) + 1e-5);
                    }
                }
            }
            memcpy(y, x, (size_t)(rows * ld) * sizeof(float));
            r->softmax_rows(y, rows, cols, ld);
            for (ptrdiff_t i = 0; i < rows; ++i) {
                double mx = -INFINITY, sum = 0;
                for (ptrdiff_t j = 0; j < cols; ++j) mx = x[i * ld + j] > mx ? x[i * ld + j] : mx;
                for (ptrdiff_t j = 0; j < cols; ++j) sum += exp(x[i * ld + j] - mx);
                for (ptrdiff_t j = 0; j < cols; ++j) {
                    double ref = exp(x[i * ld + j] - mx) / sum;
                    snprintf(what, sizeof what, "softmax_rows %tdx%td (%td,%td)", rows, cols, i, j);
                    expect_close(what, y[i * ld + j], ref, 8 * ref);
                }
            }
            free(x); free(res); free(bias); free(gamma); free(beta); free(y);
        }
    printf("row ops (NEON builds run the generic file on 4-float vectors): %s\n", failures == before ? "ok" : "FAILED");
}

// MARK: - Exact-search scores

static float half_to_float(uint16_t h) {
    __fp16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}
static uint16_t float_to_half(float f) {
    __fp16 v = (__fp16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
}

static void check_scan(void) {
    const attend_scan_ukernel *u = attend_scan_ukernel_for(ATTEND_ISA_NEON);
    expect_true("scan: the NEON kernels are picked", u->isa == ATTEND_ISA_NEON);
    long before = failures;
    char what[160];
    static const ptrdiff_t ds[] = {1, 3, 8, 15, 16, 17, 33, 64, 384};
    for (int di = 0; di < 9; ++di)
        for (int ri = 0; ri < NSIZES; ri += 2)
            for (ptrdiff_t nq = 1; nq <= 5; nq += 2) {
                const ptrdiff_t d = ds[di], rows = SIZES[ri] * 3, ldx = d + 5, ldq = d + 2, lds = rows + 1;
                float *q = randoms(nq * ldq, 1), *xf = randoms(rows * ldx, 1), *scale = randoms(rows, 0.02f);
                uint16_t *xh = malloc((size_t)(rows * ldx) * 2);
                int8_t *xi = malloc((size_t)(rows * ldx));
                for (ptrdiff_t i = 0; i < rows * ldx; ++i) {
                    xh[i] = float_to_half(xf[i]);
                    xi[i] = (int8_t)lrintf(xf[i] * 127);
                }
                float *s = malloc((size_t)(nq * lds) * sizeof(float));
                for (int storage = 0; storage < 3; ++storage) {
                    const void *x = storage == ATTEND_SCAN_F32 ? (const void *)xf : storage == ATTEND_SCAN_F16 ? (const void *)xh : (const void *)xi;
                    int status = attend_scan_scores(ATTEND_ISA_NEON, storage, nq, rows, d, q, ldq, x, ldx,
                                                    storage == ATTEND_SCAN_I8 ? scale : NULL, s, lds);
                    expect_true("scan scores status", status == 0);
                    for (ptrdiff_t a = 0; a < nq; ++a)
                        for (ptrdiff_t r = 0; r < rows; ++r) {
                            double ref = 0, mag = 0;
                            for (ptrdiff_t c = 0; c < d; ++c) {
                                double xv = storage == ATTEND_SCAN_F32 ? xf[r * ldx + c]
                                          : storage == ATTEND_SCAN_F16 ? half_to_float(xh[r * ldx + c]) : xi[r * ldx + c];
                                ref += (double)q[a * ldq + c] * xv;
                                mag += fabs((double)q[a * ldq + c] * xv);
                            }
                            if (storage == ATTEND_SCAN_I8) { ref *= scale[r]; mag *= fabs(scale[r]); }
                            snprintf(what, sizeof what, "scan storage=%d d=%td rows=%td nq=%td (%td,%td)", storage, d, rows, nq, a, r);
                            expect_close(what, s[a * lds + r], ref, 4 * mag);
                        }
                    // Top-k on NEON against top-k on generic: same rows in the same order, scores close.
                    const ptrdiff_t kk = rows < 7 ? rows : 7;
                    attend_scan_hit *h0 = malloc((size_t)(nq * kk) * sizeof *h0), *h1 = malloc((size_t)(nq * kk) * sizeof *h1);
                    ptrdiff_t n0 = attend_scan_topk(ATTEND_ISA_GENERIC, 1, storage, x, ldx, storage == ATTEND_SCAN_I8 ? scale : NULL,
                                                    rows, d, q, ldq, nq, kk, h0);
                    ptrdiff_t n1 = attend_scan_topk(ATTEND_ISA_NEON, 2, storage, x, ldx, storage == ATTEND_SCAN_I8 ? scale : NULL,
                                                    rows, d, q, ldq, nq, kk, h1);
                    expect_true("scan topk count", n0 == n1);
                    for (ptrdiff_t i = 0; n0 == n1 && n0 > 0 && i < nq * n0; ++i) {
                        snprintf(what, sizeof what, "scan topk storage=%d d=%td rows=%td hit %td", storage, d, rows, i);
                        expect_close(what, h1[i].score, h0[i].score, d * (fabs(h0[i].score) + 1));   // two float32 sums of d terms
                        if (h0[i].row != h1[i].row && fabsf(h0[i].score - h1[i].score) > 1e-5f) expect_true(what, 0);
                    }
                    free(h0); free(h1);
                }
                free(q); free(xf); free(scale); free(xh); free(xi); free(s);
            }
    printf("scan scores and top-k (NEON, f32/f16/i8): %s\n", failures == before ? "ok" : "FAILED");
}

// MARK: - Int8 GEMM

/// C = A·Wᵀ (+ beta·C) through one int8 set over the packed weight: returns C.
static float *int8_through(const attend_int8_ukernel *u, ptrdiff_t m, ptrdiff_t k, const float *a, ptrdiff_t lda,
                           ptrdiff_t n, const uint32_t *wp, const float *ws, const int32_t *wo, const float *c0,
                           ptrdiff_t ldc, float beta) {
    const ptrdiff_t mr = u->mr, nr = ATTEND_INT8_NR, kq = (k + 3) / 4, nb = (k + ATTEND_INT8_KB - 1) / ATTEND_INT8_KB;
    const ptrdiff_t ms = (m + mr - 1) / mr, ns = (n + nr - 1) / nr;
    uint32_t *ap = aligned((size_t)(ms * mr * kq) * 4);
    float *as = aligned((size_t)(ms * mr * nb) * sizeof(float));
    float *c = malloc((size_t)(m * ldc) * sizeof(float));
    memcpy(c, c0, (size_t)(m * ldc) * sizeof(float));
    u->pack_a(a, lda, m, k, ap, as);
    for (ptrdiff_t s = 0; s < ms; ++s)
        for (ptrdiff_t t = 0; t < ns; ++t) {
            ptrdiff_t rows = m - s * mr < mr ? m - s * mr : mr, cols = n - t * nr < nr ? n - t * nr : nr;
            u->kernel(kq, ap + s * kq * mr, as + s * nb * mr, wp + t * kq * nr, ws + t * nr, wo + t * nb * nr,
                      c + s * mr * ldc + t * nr, ldc, beta, rows, cols);
        }
    free(ap);
    free(as);
    return c;
}

static void check_int8(int expect_dotprod) {
    const attend_int8_ukernel *portable = attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_PORTABLE);
    const attend_int8_ukernel *dot = attend_int8_ukernel_kind(ATTEND_INT8_KERNEL_NEONDOT);
    const attend_int8_ukernel *picked = attend_int8_ukernel_for(ATTEND_ISA_NEON);
    if (!expect_dotprod) {
        expect_true("int8: no dot-product set on a CPU without it", dot == NULL && !attend_cpu_has_neon_dotprod());
        expect_true("int8: the NEON level falls back to the portable set", picked == portable);
        printf("int8 (CPU without the dot product): the portable set is picked: %s\n", dot == NULL && picked == portable ? "ok" : "FAILED");
        return;
    }
    expect_true("int8: the dot-product set exists", dot != NULL && attend_cpu_has_neon_dotprod());
    expect_true("int8: the NEON level picks the dot-product set", picked == dot);
    if (!dot) return;
    long before = failures, compared = 0;
    static const ptrdiff_t ms[] = {1, 2, 3, 4, 5, 7, 9, 13}, ns[] = {1, 3, 15, 16, 17, 63, 64, 65, 130};
    static const ptrdiff_t ks[] = {1, 3, 4, 5, 63, 64, 65, 128, 200, 384};
    char what[160];
    for (int ki = 0; ki < 10; ++ki)
        for (int ni = 0; ni < 9; ++ni) {
            const ptrdiff_t k = ks[ki], n = ns[ni], kq = (k + 3) / 4, nb = (k + ATTEND_INT8_KB - 1) / ATTEND_INT8_KB;
            const ptrdiff_t slivers = (n + ATTEND_INT8_NR - 1) / ATTEND_INT8_NR;
            float *w = randoms(n * (k + 1), 1);
            if (n > 2) memset(w + (k + 1), 0, (size_t)k * sizeof(float));   // a row of zeros: scale 0
            uint32_t *wp = aligned((size_t)(slivers * kq * ATTEND_INT8_NR) * 4);
            float *ws = aligned((size_t)(slivers * ATTEND_INT8_NR) * sizeof(float));
            int32_t *wo = aligned((size_t)(slivers * nb * ATTEND_INT8_NR) * 4);
            attend_int8_pack_weight(w, k + 1, n, k, wp, ws, wo);
            for (int mi = 0; mi < 8; ++mi) {
                const ptrdiff_t m = ms[mi], lda = k + 2, ldc = n + 1;
                float *a = randoms(m * lda, 3);
                for (ptrdiff_t p = 0; p < k; p += 7) a[p] *= 40;   // outliers in row 0's blocks
                float *c0 = randoms(m * ldc, 1);
                for (int betai = 0; betai < 2; ++betai) {
                    const float beta = betai ? 0.5f : 0.0f;
                    float *want = int8_through(portable, m, k, a, lda, n, wp, ws, wo, c0, ldc, beta);
                    float *got = int8_through(dot, m, k, a, lda, n, wp, ws, wo, c0, ldc, beta);
                    ++compared;
                    snprintf(what, sizeof what, "int8 sdot m=%td n=%td k=%td beta=%g: bits equal to the portable set", m, n, k, beta);
                    expect_true(what, memcmp(want, got, (size_t)(m * ldc) * sizeof(float)) == 0);
                    free(want); free(got);
                }
                free(a); free(c0);
            }
            free(w); free(wp); free(ws); free(wo);
        }
    printf("int8 (NEON dot product, %ld products): bit-identical to the portable set: %s\n", compared,
           failures == before ? "ok" : "FAILED");
}

// MARK: - Peak probes

/// The probes run (their timing under an emulator means nothing) and name the instruction they time.
static void check_peak(int expect_dotprod) {
    double ops = 0;
    const char *variant = "";
    float f = attend_peak_fp32(ATTEND_ISA_NEON, 1000, &ops);
    expect_true("peak fp32 NEON: 16 chains × 4 lanes × 2 flops per round", ops == 2.0 * 4 * ATTEND_PEAK_CHAINS * 1000 && isfinite(f));
    attend_peak_int8(ATTEND_ISA_NEON, 1000, &ops, &variant);
    int named = expect_dotprod ? strstr(variant, "sdot") != NULL : strstr(variant, "scalar") != NULL;
    expect_true("peak int8 NEON: sdot with the dot product, the scalar probe without", named);
    printf("peak probes (fp32 NEON; int8 %s): %s\n", variant, named ? "ok" : "FAILED");
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    // Default (qemu -cpu max): the dot product must be there. --native: whatever this Arm CPU has.
    int expect_dotprod = strcmp(mode, "--native") == 0 ? attend_cpu_has_neon_dotprod() : strcmp(mode, "--expect-no-dotprod") != 0;
    int everything = strcmp(mode, "--expect-no-dotprod") != 0;
    if (attend_detect_isa() != ATTEND_ISA_NEON || !attend_isa_supported(ATTEND_ISA_NEON)) {
        fprintf(stderr, "not an Arm CPU with NEON (attend_detect_isa = %d)\n", (int)attend_detect_isa());
        return 1;
    }
    check_int8(expect_dotprod);
    check_peak(expect_dotprod);
    if (everything) {
        check_sgemm();
        check_rowops();
        check_scan();
        check_attention();
    }
    printf("%ld checks, %ld failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
