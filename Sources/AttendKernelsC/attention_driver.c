// The fused-attention driver: blocking, packing, masks and work items around the per-ISA
// micro-kernels of attention_{generic,avx2,avx512,neon}.c. ISA-neutral bookkeeping only; every loop
// over Lq·Lk elements runs inside a micro-kernel. See attend_attention.h for the maths and layouts.
//
// Per work item (batch b, kv head g, a chunk of query rows), for each query head h of the group:
//   pack Kᵀ of the keys the chunk can see (once per item, shared by the group's heads);
//   for each query block of QB rows: m = −∞, l = 0;
//     for each key block of KB keys (causal: blocks wholly above the diagonal, shifted right by
//     causal_offset, skipped):
//       for each strip of MR query rows:
//         S = scale·log2(e) · Q Kᵀ (Q read in place, keys rounded up to 16) → masks → online softmax
//         (m, l, alpha, P in place)
//         O_acc = alpha · O_acc + P V (O_acc = P V in the first key block); in the strip's last key block
//         O = (alpha · O_acc + P V) / l straight into O (0 when l = 0: every key masked)
//     weights = exp2(S − m) / l from the saved S.
#include "attend_attention.h"
#include "kernel_math.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

enum { NR = ATTEND_ATTN_NR, MR = ATTEND_ATTN_MR };

static inline ptrdiff_t min_pd(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t max_pd(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }
static inline ptrdiff_t round_up(ptrdiff_t a, ptrdiff_t m) { return (a + m - 1) / m * m; }
/// Offset in floats of row `row` of head `h` in batch `b` of a buffer laid out as `l`.
static inline ptrdiff_t row_offset(attend_head_layout l, ptrdiff_t b, ptrdiff_t h, ptrdiff_t row) {
    return b * l.batch + h * l.head + row * l.row;
}

/// Query rows per block and keys per block (PERFORMANCE-NOTES: 96/512; 48/128 … 192/512 within ~10%).
#ifndef ATTEND_ATTN_Q_BLOCK
#define ATTEND_ATTN_Q_BLOCK 96
#endif
#ifndef ATTEND_ATTN_K_BLOCK
#define ATTEND_ATTN_K_BLOCK 512
#endif
enum { Q_BLOCK = ATTEND_ATTN_Q_BLOCK, K_BLOCK = ATTEND_ATTN_K_BLOCK };
/// Multiply-adds below which a second thread does not pay for its wake-up.
static const double WORK_PER_THREAD = 1 << 17;
/// Multiply-adds per item below which the next item's operands are prefetched (they come from L3 or memory,
/// and the item is too short for the hardware prefetchers to hide that: N = 128 heads lost a quarter of their
/// time to the first loads of Q and K and the stores of O).
#ifndef ATTEND_ATTN_PREFETCH_WORK
#define ATTEND_ATTN_PREFETCH_WORK (1 << 23)
#endif
static const double PREFETCH_ITEM_WORK = ATTEND_ATTN_PREFETCH_WORK;

/// Scratch regions of one worker, in floats (each a multiple of 16 floats, so all stay 64-byte aligned).
typedef struct {
    ptrdiff_t kt, sbuf, obuf, stats, bias, total;
    ptrdiff_t dvp;
} scratch_layout;

static scratch_layout layout_for(const attend_attention_problem *p, const attend_attention_plan *plan) {
    scratch_layout s;
    ptrdiff_t dk = max_pd(p->dk, 1);
    s.dvp = round_up(max_pd(p->dv, 1), 16);
    ptrdiff_t at = 0;
    // Kᵀ, or a short head's Qᵀ sliver, P, 1/l and row statistics.
    s.kt = at; at += max_pd(round_up(p->lk, NR) * dk, NR * dk + ATTEND_ATTN_SHORT * (ATTEND_ATTN_SHORT + 3));
    s.sbuf = at; at += MR * plan->k_block;
    s.obuf = at; at += plan->q_block * s.dvp;
    s.stats = at; at += round_up(2 * plan->q_block + 16, 16);   // m, l, alpha
    s.bias = at; at += round_up(p->lk, 16);
    s.total = at;
    return s;
}

ptrdiff_t attend_attention_plan_for(const attend_attention_problem *p, attend_isa isa, ptrdiff_t threads,
                                    attend_attention_plan *plan) {
    memset(plan, 0, sizeof *plan);
    plan->isa = attend_attention_ukernel_for(isa)->isa;
    if (p->b <= 0 || p->h <= 0 || p->hkv <= 0 || p->lq <= 0 || p->h % p->hkv != 0) return 0;
    plan->q_block = Q_BLOCK;
    plan->k_block = min_pd(K_BLOCK, round_up(max_pd(p->lk, 1), NR));
    ptrdiff_t groups = p->b * p->hkv;
    ptrdiff_t qblocks = (p->lq + Q_BLOCK - 1) / Q_BLOCK;
    double work = (double)p->b * (double)p->h * (double)p->lq * (double)max_pd(p->lk, 1) * (double)(p->dk + p->dv);
    if (p->causal) work *= 0.5;
    if (threads < 1) threads = 1;
    ptrdiff_t by_work = (ptrdiff_t)fmin(work / WORK_PER_THREAD, 1e6);
    threads = max_pd(1, min_pd(threads, by_work));
    // About four items per thread, so that threads claiming them dynamically finish together.
    ptrdiff_t want = threads > 1 ? 4 * threads : 1;
    ptrdiff_t chunks = min_pd(max_pd(1, (want + groups - 1) / groups), qblocks);
    ptrdiff_t chunk_blocks = (qblocks + chunks - 1) / chunks;
    plan->chunk_rows = chunk_blocks * Q_BLOCK;
    plan->chunks = (p->lq + plan->chunk_rows - 1) / plan->chunk_rows;
    plan->items = groups * plan->chunks;
    plan->scratch_floats = layout_for(p, plan).total;
    plan->short_heads = attend_attention_ukernel_for(isa)->short_head && p->lq <= ATTEND_ATTN_SHORT &&
                        p->lk <= ATTEND_ATTN_SHORT;
    // Short heads are not prefetched: pacing their few dozen lines cost more than it saved (N = 12, 384 heads of
    // d = 32: 55 GFLOPS with the prefetcher, 83 without; prefetching each next item whole at once, 73).
    plan->prefetch_next = !plan->short_heads && plan->items > 1 && work / (double)plan->items < PREFETCH_ITEM_WORK;
    plan->next = 0;
    return min_pd(threads, plan->items);
}

/// Rows [r0, r1) of query head h in batch b get zero output, zero weights and lse = −∞.
static void zero_rows(const attend_attention_problem *p, ptrdiff_t b, ptrdiff_t h, ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t i = r0; i < r1; ++i) {
        float *o = p->o + row_offset(p->o_layout, b, h, i);
        memset(o, 0, (size_t)p->dv * sizeof(float));
        ptrdiff_t row = (b * p->h + h) * p->lq + i;
        if (p->weights) memset(p->weights + row * p->lk, 0, (size_t)p->lk * sizeof(float));
        if (p->lse) p->lse[row] = -INFINITY;
    }
}

/// Packs keys [0, n) of one head into Kᵀ slivers (zero past n, up to a multiple of 16 keys).
static void pack_kt(const float *k, ptrdiff_t ldk, ptrdiff_t n, ptrdiff_t dk, float *dst) {
    for (ptrdiff_t t0 = 0; t0 < n; t0 += NR) {
        const ptrdiff_t cols = min_pd(NR, n - t0), padded = (cols + 15) / 16 * 16;
        const float *src = k + t0 * ldk;
        float *d = dst + (t0 / NR) * dk * NR;
        // Row p of the sliver is written contiguously (strided reads from L1 are cheaper than strided stores);
        // zeros fill it up to the 16-key vector the micro-kernels read.
        for (ptrdiff_t p = 0; p < dk; ++p) {
            float *row = d + p * NR;
            for (ptrdiff_t c = 0; c < cols; ++c) row[c] = src[c * ldk + p];
            for (ptrdiff_t c = cols; c < padded; ++c) row[c] = 0.0f;
        }
    }
}

// MARK: Prefetching

/// Prefetches `rows` rows of `floats` floats, `row_floats` apart, into L2: for reading or (`write`) for writing.
static void prefetch_rows(const float *base, ptrdiff_t row_floats, ptrdiff_t rows, ptrdiff_t floats, int write) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const char *row = (const char *)(base + i * row_floats);
        const char *first = (const char *)((uintptr_t)row & ~(uintptr_t)63);
        const char *last = row + floats * (ptrdiff_t)sizeof(float) - 1;
        for (const char *line = first; line <= last; line += 64) {
            if (write) __builtin_prefetch(line, 1, 2);
            else __builtin_prefetch(line, 0, 2);
        }
    }
}

/// Packs keys [0, n) of one head into Kᵀ slivers, one sliver of NR keys at a time, with the next sliver's key rows
/// prefetched meanwhile: they come from L3 or memory a head's stride apart, which no hardware prefetcher follows
/// (unprefetched, packing took 4.6% of causal N = 1,024, twenty times its arithmetic).
static void pack_kt_prefetched(const attend_attention_ukernel *uk, const float *k, ptrdiff_t ldk, ptrdiff_t n,
                               ptrdiff_t dk, float *kt) {
    void (*const pack)(const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *) = uk->pack_kt ? uk->pack_kt : pack_kt;
    prefetch_rows(k, ldk, min_pd(NR, n), dk, 0);
    for (ptrdiff_t t0 = 0; t0 < n; t0 += NR) {
        if (t0 + NR < n) prefetch_rows(k + (t0 + NR) * ldk, ldk, min_pd(NR, n - t0 - NR), dk, 0);
        pack(k + t0 * ldk, ldk, min_pd(NR, n - t0), dk, kt + (t0 / NR) * dk * NR);
    }
}

// Prefetching the next item (or query block) a few lines per strip

enum { PF_REGIONS = 8 };

/// The rows of the next work item (Q and O of each query head, K and V of the kv head), walked a few
/// 64-byte lines per call: prefetched for reading (K, V, Q) or writing (O) into L2.
typedef struct {
    const char *base[PF_REGIONS];
    ptrdiff_t stride[PF_REGIONS], rows[PF_REGIONS], bytes[PF_REGIONS];
    int write[PF_REGIONS];
    int regions, region;
    ptrdiff_t row, line, per_call;
} prefetcher;

static void pf_add(prefetcher *pf, const float *base, ptrdiff_t row_floats, ptrdiff_t rows, ptrdiff_t floats,
                   int write) {
    if (pf->regions == PF_REGIONS || rows <= 0 || floats <= 0) return;
    int r = pf->regions++;
    pf->base[r] = (const char *)base;
    pf->stride[r] = row_floats * (ptrdiff_t)sizeof(float);
    pf->rows[r] = rows;
    pf->bytes[r] = floats * (ptrdiff_t)sizeof(float);
    pf->write[r] = write;
}

/// Prefetches the next `pf->per_call` lines (none when done or empty).
static void pf_step(prefetcher *pf) {
    for (ptrdiff_t left = pf->per_call; left > 0 && pf->region < pf->regions;) {
        const int r = pf->region;
        const char *row = pf->base[r] + pf->row * pf->stride[r];
        const char *first = (const char *)((uintptr_t)row & ~(uintptr_t)63);
        const ptrdiff_t lines = ((const char *)((uintptr_t)(row + pf->bytes[r] - 1) & ~(uintptr_t)63) - first) / 64 + 1;
        for (; pf->line < lines && left > 0; ++pf->line, --left) {
            if (pf->write[r]) __builtin_prefetch(first + 64 * pf->line, 1, 2);
            else __builtin_prefetch(first + 64 * pf->line, 0, 2);
        }
        if (pf->line == lines) {
            pf->line = 0;
            if (++pf->row == pf->rows[r]) { pf->row = 0; ++pf->region; }
        }
    }
}

/// Spreads the lines of `pf`'s regions over about `calls` calls of pf_step (at least 8 lines a call).
static void pf_pace(prefetcher *pf, ptrdiff_t calls) {
    ptrdiff_t total = 0;
    for (int r = 0; r < pf->regions; ++r) total += pf->rows[r] * ((pf->bytes[r] + 63) / 64 + 1);
    pf->per_call = max_pd(8, (total + calls - 1) / max_pd(calls, 1));
}

/// The item's batch, kv head and query rows [c0, c1).
static void item_bounds(const attend_attention_problem *p, const attend_attention_plan *plan, ptrdiff_t item,
                        ptrdiff_t *b, ptrdiff_t *kvh, ptrdiff_t *c0, ptrdiff_t *c1) {
    const ptrdiff_t groups = p->b * p->hkv;
    // Latest (for causal, costliest) chunks first.
    ptrdiff_t chunk = plan->chunks - 1 - item / groups, group = item % groups;
    *b = group / p->hkv;
    *kvh = group % p->hkv;
    *c0 = chunk * plan->chunk_rows;
    *c1 = min_pd(p->lq, *c0 + plan->chunk_rows);
}

/// Sets `pf` up for `item`'s operands, spread over about `calls` calls of pf_step: all of them (K, V and every query
/// head's Q and O rows), or with `start_only` what a large item touches first (its keys, which it packs first thing,
/// and its first query block's Q and O rows; packing otherwise waits on L3 or memory for every key row: 2.4% of causal
/// N = 1,024, whose items are one head each).
static void pf_plan(prefetcher *pf, const attend_attention_problem *p, const attend_attention_plan *plan,
                    ptrdiff_t item, ptrdiff_t calls, int start_only) {
    memset(pf, 0, sizeof *pf);
    if (item >= plan->items) return;
    ptrdiff_t b, kvh, c0, c1;
    item_bounds(p, plan, item, &b, &kvh, &c0, &c1);
    const ptrdiff_t g = p->h / p->hkv, r1 = start_only ? min_pd(c1, c0 + plan->q_block) : c1;
    const ptrdiff_t keys = p->causal ? min_pd(p->lk, p->causal_offset + c1) : p->lk;
    pf_add(pf, p->k + row_offset(p->k_layout, b, kvh, 0), p->k_layout.row, keys, p->dk, 0);
    for (ptrdiff_t gi = 0; gi < (start_only ? 1 : g); ++gi) {
        const ptrdiff_t h = kvh * g + gi;
        pf_add(pf, p->q + row_offset(p->q_layout, b, h, c0), p->q_layout.row, r1 - c0, p->dk, 0);
        if (gi == 0 && !start_only)
            pf_add(pf, p->v + row_offset(p->v_layout, b, kvh, 0), p->v_layout.row, keys, p->dv, 0);
        pf_add(pf, p->o + row_offset(p->o_layout, b, h, c0), p->o_layout.row, r1 - c0, p->dv, 1);
    }
    pf_pace(pf, calls);
}

/// Sets `pf` up for the Q and O rows [r0, r1) of query head h in batch b, spread over about `calls` calls of
/// pf_step (a large item's next query block: the scores' first reads of Q and the O stores otherwise wait on L3 or memory).
static void pf_plan_rows(prefetcher *pf, const attend_attention_problem *p, ptrdiff_t b, ptrdiff_t h, ptrdiff_t r0,
                         ptrdiff_t r1, ptrdiff_t calls) {
    memset(pf, 0, sizeof *pf);
    pf_add(pf, p->q + row_offset(p->q_layout, b, h, r0), p->q_layout.row, r1 - r0, p->dk, 0);
    pf_add(pf, p->o + row_offset(p->o_layout, b, h, r0), p->o_layout.row, r1 - r0, p->dv, 1);
    pf_pace(pf, calls);
}

/// One query block [q0, q0 + nq) of head h in batch b against keys [0, lk_eff).
static void query_block(const attend_attention_problem *p, const attend_attention_ukernel *uk,
                        const attend_attention_plan *plan, const scratch_layout *sl, float *scratch,
                        ptrdiff_t b, ptrdiff_t h, ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t lk_eff,
                        const float *key_bias, prefetcher *pf) {
    const float log2e = ATTEND_LOG2E;
    const ptrdiff_t dk = p->dk, dv = p->dv, dvp = sl->dvp, kb = plan->k_block;
    const ptrdiff_t g = p->h / p->hkv, kvh = h / g;
    float *kt = scratch + sl->kt, *sbuf = scratch + sl->sbuf;
    float *obuf = scratch + sl->obuf, *m = scratch + sl->stats, *l = m + plan->q_block, *alpha = l + plan->q_block;

    // Q is read in place; the scores kernel gives S = scale·log2(e) · Q Kᵀ, in the log2 domain.
    const float *q = p->q + row_offset(p->q_layout, b, h, q0);
    const ptrdiff_t ldq = p->q_layout.row;
    for (ptrdiff_t i = 0; i < nq; ++i) { m[i] = -INFINITY; l[i] = 0.0f; }

    const float *v = p->v + row_offset(p->v_layout, b, kvh, 0);
    const ptrdiff_t ldv = p->v_layout.row;
    const float *mask = p->mask ? p->mask + b * p->mask_batch + h * p->mask_head : NULL;
    float *weights = p->weights ? p->weights + ((b * p->h + h) * p->lq + q0) * p->lk : NULL;
    // Keys this block can see at all.
    // Causal: query row i (absolute position off + i) sees keys 0…off + i.
    const ptrdiff_t off = p->causal ? p->causal_offset : 0;
    const ptrdiff_t qlim = p->causal ? min_pd(lk_eff, off + q0 + nq) : lk_eff;
    float *o = p->o + row_offset(p->o_layout, b, h, q0);
    const ptrdiff_t ldo = p->o_layout.row;

    for (ptrdiff_t j0 = 0; j0 < qlim; j0 += kb) {
        for (ptrdiff_t r0 = 0; r0 < nq; r0 += MR) {
            ptrdiff_t mr = min_pd(MR, nq - r0);
            ptrdiff_t lim = p->causal ? min_pd(lk_eff, off + q0 + r0 + mr) : lk_eff;   // keys this strip sees
            if (j0 >= lim) continue;
            ptrdiff_t n = min_pd(j0 + kb, lim) - j0;
            const int last = j0 + kb >= lim;   // the strip's last key block: O written in place, divided by l
            uk->scores(mr, n, dk, q + r0 * ldq, ldq, kt + (j0 / NR) * dk * NR, sbuf, kb, p->scale * log2e);
            ptrdiff_t limits[MR];
            if (p->causal)
                for (ptrdiff_t r = 0; r < mr; ++r) limits[r] = min_pd(n, max_pd(0, off + q0 + r0 + r + 1 - j0));
            attend_softmax_step st = {
                .mr = mr, .n = n, .s = sbuf, .lds = kb,
                .key_bias = key_bias ? key_bias + j0 : NULL,
                .mask = mask ? mask + (q0 + r0) * p->mask_row + j0 : NULL, .ldm = p->mask_row,
                .mask_boolean = p->mask_boolean,
                .limit = p->causal ? limits : NULL,
                .m = m + r0, .l = l + r0, .alpha = alpha,
                .raw = weights ? weights + r0 * p->lk + j0 : NULL, .ldraw = p->lk,
            };
            uk->softmax(&st);
            // O_acc = alpha·O_acc + P V in obuf (nothing to rescale in the first block); in the last block
            // O = (alpha·O_acc + P V) / l straight into O (0 when l = 0: every key masked).
            float inv[MR];
            if (last)
                for (ptrdiff_t r = 0; r < mr; ++r) inv[r] = l[r0 + r] > 0.0f ? 1.0f / l[r0 + r] : 0.0f;
            uk->pv(mr, n, dv, sbuf, kb, v + j0 * ldv, ldv, alpha, j0 == 0 ? NULL : obuf + r0 * dvp, dvp,
                   last ? o + r0 * ldo : obuf + r0 * dvp, last ? ldo : dvp, last ? inv : NULL);
            pf_step(pf);
        }
    }

    // Rows of strips that saw no key: O = 0. lse; weights = exp2(S − m) / l over the keys each strip visited,
    // 0 beyond.
    for (ptrdiff_t i = 0; i < nq; ++i) {
        float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
        const ptrdiff_t r0 = i / MR * MR;
        ptrdiff_t seen = p->causal ? min_pd(lk_eff, off + q0 + min_pd(r0 + MR, nq)) : lk_eff;   // keys its strip saw
        if (seen <= 0) memset(o + i * ldo, 0, (size_t)dv * sizeof(float));
        if (p->lse) p->lse[(b * p->h + h) * p->lq + q0 + i] = l[i] > 0.0f ? (m[i] + log2f(l[i])) / log2e : -INFINITY;
        if (weights) {
            float *w = weights + i * p->lk;
            if (l[i] > 0.0f) uk->exp_scale(w, seen, m[i], inv);
            else seen = 0;
            memset(w + seen, 0, (size_t)(p->lk - seen) * sizeof(float));
        }
    }
}

/// Query rows [c0, c1) of every query head of kv head `kvh` in batch b against keys [0, n), each head whole through
/// the ISA's short-head kernel (Lq, Lk ≤ ATTEND_ATTN_SHORT); the weights of keys the rows cannot see are zeroed.
static void short_heads(const attend_attention_problem *p, const attend_attention_ukernel *uk, ptrdiff_t b,
                        ptrdiff_t kvh, ptrdiff_t c0, ptrdiff_t c1, ptrdiff_t n, const float *key_bias, float *scratch) {
    const ptrdiff_t g = p->h / p->hkv;
    for (ptrdiff_t gi = 0; gi < g; ++gi) {
        const ptrdiff_t h = kvh * g + gi, row0 = (b * p->h + h) * p->lq + c0;
        const attend_short_head sh = {
            .nq = c1 - c0, .n = n, .dk = p->dk, .dv = p->dv,
            .q = p->q + row_offset(p->q_layout, b, h, c0),
            .k = p->k + row_offset(p->k_layout, b, kvh, 0),
            .v = p->v + row_offset(p->v_layout, b, kvh, 0),
            .ldq = p->q_layout.row, .ldk = p->k_layout.row, .ldv = p->v_layout.row,
            .o = p->o + row_offset(p->o_layout, b, h, c0), .ldo = p->o_layout.row,
            .c_s = p->scale * ATTEND_LOG2E,
            .key_bias = key_bias,
            .mask = p->mask ? p->mask + b * p->mask_batch + h * p->mask_head + c0 * p->mask_row : NULL,
            .ldm = p->mask_row, .mask_boolean = p->mask_boolean,
            .causal = p->causal, .causal_offset = p->causal_offset + c0,
            .weights = p->weights ? p->weights + row0 * p->lk : NULL, .ldw = p->lk,
            .lse = p->lse ? p->lse + row0 : NULL,
            .scratch = scratch,
        };
        uk->short_head(&sh);
        if (p->weights && n < p->lk)
            for (ptrdiff_t i = 0; i < c1 - c0; ++i)
                memset(sh.weights + i * p->lk + n, 0, (size_t)(p->lk - n) * sizeof(float));
    }
}

void attend_attention_worker(const attend_attention_problem *p, attend_attention_plan *plan, float *scratch) {
    const attend_attention_ukernel *uk = attend_attention_ukernel_for(plan->isa);
    const scratch_layout sl = layout_for(p, plan);
    const float log2e = ATTEND_LOG2E;
    const ptrdiff_t g = p->h / p->hkv;
    // Strips of MR query rows per item (every head of the group, one key block): the calls of pf_step.
    const ptrdiff_t strips = g * (plan->chunk_rows + MR - 1) / MR, block_strips = (plan->q_block + MR - 1) / MR;
    prefetcher pf;
    memset(&pf, 0, sizeof pf);
    // The item after this one is claimed up front, so that its operands can be prefetched meanwhile: all of them
    // over the whole item (prefetch_next, small items), or its keys and first query block over the last query block.
    for (ptrdiff_t item = attend_fetch_add(&plan->next, 1), next = plan->items; item < plan->items; item = next) {
        next = attend_fetch_add(&plan->next, 1);
        if (plan->prefetch_next) pf_plan(&pf, p, plan, next, strips, 0);
        ptrdiff_t b, kvh, c0, c1;
        item_bounds(p, plan, item, &b, &kvh, &c0, &c1);

        // Keys past the last one the key mask lets through are never computed.
        ptrdiff_t lk_eff = p->lk;
        float *bias = NULL;
        if (p->key_mask) {
            const float *km = p->key_mask + b * p->key_mask_batch;
            if (p->key_mask_boolean) {
                while (lk_eff > 0 && km[lk_eff - 1] == 0.0f) --lk_eff;
            } else {
                while (lk_eff > 0 && km[lk_eff - 1] == -INFINITY) --lk_eff;
            }
            bias = scratch + sl.bias;
            int changes_any = 0;
            for (ptrdiff_t j = 0; j < lk_eff; ++j) {
                bias[j] = p->key_mask_boolean ? (km[j] == 0.0f ? -INFINITY : 0.0f) : km[j] * log2e;
                changes_any |= bias[j] != 0.0f;
            }
            // A key mask that leaves the keys [0, lk_eff) as they are (padding only at the end, or none: a batch of
            // equal-length sentences) is dropped, so that the softmax takes its unmasked path: no bias loads, and
            // exponentials without the −∞ clamp. The output is then bit for bit that of no mask at all.
            if (!changes_any) bias = NULL;
        }
        ptrdiff_t need = p->causal ? min_pd(lk_eff, p->causal_offset + c1) : lk_eff;   // keys the chunk can see
        if (need <= 0) {
            for (ptrdiff_t gi = 0; gi < g; ++gi) zero_rows(p, b, kvh * g + gi, c0, c1);
            continue;
        }
        if (plan->short_heads) {
            short_heads(p, uk, b, kvh, c0, c1, need, bias, scratch + sl.kt);
            continue;
        }
        pack_kt_prefetched(uk, p->k + row_offset(p->k_layout, b, kvh, 0), p->k_layout.row, need, p->dk,
                           scratch + sl.kt);
        for (ptrdiff_t gi = 0; gi < g; ++gi) {
            ptrdiff_t h = kvh * g + gi;
            for (ptrdiff_t q0 = c0; q0 < c1; q0 += plan->q_block) {
                if (!plan->prefetch_next) {   // a large item: the next query block of the item, over this one's first key block
                    ptrdiff_t nq0 = q0 + plan->q_block, ngi = gi;
                    if (nq0 >= c1) { nq0 = c0; ++ngi; }
                    if (ngi < g) pf_plan_rows(&pf, p, b, kvh * g + ngi, nq0, min_pd(c1, nq0 + plan->q_block), block_strips);
                    else pf_plan(&pf, p, plan, next, block_strips, 1);
                }
                query_block(p, uk, plan, &sl, scratch, b, h, q0, min_pd(plan->q_block, c1 - q0), lk_eff, bias,
                            &pf);
            }
        }
    }
}

typedef struct {
    const attend_attention_problem *p;
    attend_attention_plan *plan;
    float *scratch;
} run_context;

static void run_task(void *ctx, ptrdiff_t t) {
    const run_context *c = (const run_context *)ctx;
    attend_attention_worker(c->p, c->plan, c->scratch + t * c->plan->scratch_floats);
}

void attend_attention_run(const attend_attention_problem *p, attend_attention_plan *plan, ptrdiff_t workers,
                          float *scratch) {
    run_context c = { p, plan, scratch };
    if (workers <= 1) run_task(&c, 0);
    else attend_parallel_run(workers, run_task, &c);
}
