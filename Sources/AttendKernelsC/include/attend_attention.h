#ifndef ATTEND_ATTENTION_H
#define ATTEND_ATTENTION_H
#include <stddef.h>
#include "attend_kernels.h"

// MARK: - Fused (flash-style) attention
//
// For every batch b and query head h (key/value head h / (H / Hkv)):
//
//     S = scale · Q Kᵀ                 [Lq, Lk]
//     S += key mask, general mask       (additive values; boolean 0 → −∞)
//     S[i, j] = −∞ for j > causal_offset + i   when causal (query i sits at absolute position
//                                       causal_offset + i; 0 = top-left aligned, Lk − Lq = bottom-right,
//                                       the cached length when decoding with a key/value cache)
//     P = softmax(S) row-wise           (a row with every key masked → P = 0, O = 0)
//     O = P V                           [Lq, dv]
//
// computed without materialising S: keys are visited in blocks with an online softmax (running max
// and sum per row, in the log2 domain: the scores kernel multiplies by scale·log2(e)). All
// accumulation is float32. The row maximum is subtracted before every exp2.
//
// Layouts (strides in floats): element (b, h, t, i) of Q/K/V/O is at base + b·batch + h·head + t·row + i.
// Rows must not overlap (row ≥ dk or dv); O must not overlap Q, K or V.

/// Where the heads of a [batch, heads, seqLen, dim]-like buffer live.
typedef struct {
    ptrdiff_t batch;
    ptrdiff_t head;
    ptrdiff_t row;
} attend_head_layout;

/// One attention problem: sizes, operands, masks and optional outputs.
typedef struct {
    ptrdiff_t b, h, hkv, lq, lk, dk, dv;
    const float *q;
    attend_head_layout q_layout;
    const float *k;
    attend_head_layout k_layout;
    const float *v;
    attend_head_layout v_layout;
    float *o;
    attend_head_layout o_layout;
    /// Multiplies Q Kᵀ (e.g. 1/√dk).
    float scale;
    /// Query i sees keys 0…causal_offset + i only (causal_offset ≥ 0: the keys before the first query,
    /// e.g. a key/value cache's length when decoding; 0 for plain causal self-attention).
    int causal;
    ptrdiff_t causal_offset;

    /// Optional per-key mask (key padding), element (b, j) at key_mask[b·key_mask_batch + j];
    /// key_mask_batch = 0 broadcasts one row over the batch. Boolean (1 = may attend, 0 = masked)
    /// when key_mask_boolean, else additive (−∞ masks). Trailing masked keys are skipped, not computed.
    const float *key_mask;
    ptrdiff_t key_mask_batch;
    int key_mask_boolean;

    /// Optional general mask, element (b, h, i, j) at mask[b·mask_batch + h·mask_head + i·mask_row + j];
    /// a stride of 0 broadcasts that axis. Boolean or additive as above.
    const float *mask;
    ptrdiff_t mask_batch, mask_head, mask_row;
    int mask_boolean;

    /// Optional outputs: the softmax weights, contiguous [b, h, lq, lk] (exact rows, zeros where
    /// masked), and the natural-log log-sum-exp of each row's scores, contiguous [b, h, lq]
    /// (−∞ for a fully masked row).
    float *weights;
    float *lse;
} attend_attention_problem;

/// How a problem is cut into work items, and the counter threads claim them from.
/// Fill with `attend_attention_plan`; then each worker calls `attend_attention_worker`.
typedef struct {
    attend_isa isa;
    /// Query rows per block and keys per block.
    ptrdiff_t q_block, k_block;
    /// Query-row chunks per (batch, kv head) group; items = b · hkv · chunks.
    ptrdiff_t chunks, chunk_rows, items;
    /// Floats of scratch each worker needs (64-byte aligned).
    ptrdiff_t scratch_floats;
    /// Items are small (short sequences): a worker claims its next item before computing the current one
    /// and prefetches the next one's Q, K, V and O rows into L2 a few lines per strip.
    int prefetch_next;
    /// Every head is short (Lq, Lk ≤ ATTEND_ATTN_SHORT) and the ISA has a short-head kernel: each goes through it whole.
    int short_heads;
    /// Next unclaimed item (atomic).
    ptrdiff_t next;
} attend_attention_plan;

/// Plans `p` for up to `threads` workers on `isa` (falls back to generic when unsupported).
/// Returns the number of workers worth starting (≥ 1), or 0 when there is nothing to compute.
ptrdiff_t attend_attention_plan_for(const attend_attention_problem *p, attend_isa isa, ptrdiff_t threads,
                                    attend_attention_plan *plan);

/// Claims and computes items of `plan` until none is left. `scratch` holds plan->scratch_floats
/// floats, 64-byte aligned, private to this worker. Safe to call from several threads at once.
void attend_attention_worker(const attend_attention_problem *p, attend_attention_plan *plan, float *scratch);

/// Runs `workers` workers on the kernels' thread pool (`attend_parallel_run`; worker 0 on the calling
/// thread) and returns when every item is done. Worker t uses scratch + t·plan->scratch_floats
/// (64-byte aligned when `scratch` is).
void attend_attention_run(const attend_attention_problem *p, attend_attention_plan *plan, ptrdiff_t workers,
                          float *scratch);

// MARK: - Micro-kernels (used by the driver in attention_driver.c; one table per ISA)
//
// Packed Kᵀ: keys in slivers of ATTEND_ATTN_NR; sliver t holds dk·NR floats, element (p, c) — feature p
// of key t·NR + c — at kt[t·dk·NR + p·NR + c]; keys past the end are zero up to a multiple of 16.
// Scores are in the log2 domain (the scores kernel multiplies by scale·log2(e)); masks are converted on the fly.

#define ATTEND_ATTN_NR 64
#define ATTEND_ATTN_MR 6

/// Runs TILE(R) with R = mr as a compile-time constant (1 … ATTEND_ATTN_MR; more counts as MR): the micro-kernels'
/// tiles are unrolled per row count.
#define ATTEND_ATTN_FOR_ROWS(mr, TILE)                                                                        \
    switch (mr) {                                                                                           \
    case 1: TILE(1); break;                                                                                 \
    case 2: TILE(2); break;                                                                                 \
    case 3: TILE(3); break;                                                                                 \
    case 4: TILE(4); break;                                                                                 \
    case 5: TILE(5); break;                                                                                 \
    default: TILE(6); break;                                                                                \
    }

/// One online-softmax step over an mr×n block of scores (keys j0 … j0+n−1 of rows r = 0 … mr−1).
typedef struct {
    ptrdiff_t mr, n;
    /// Scores in (row stride lds); probabilities exp2(s − m_new) out, 0 where masked.
    float *s;
    ptrdiff_t lds;
    /// Per-key log2-domain bias for this block (−∞ = masked), or NULL.
    const float *key_bias;
    /// General mask at (row 0, key j0), row stride ldm (0 = same row for all), or NULL.
    const float *mask;
    ptrdiff_t ldm;
    int mask_boolean;
    /// Row r may see keys [0, limit[r]) of this block (causal), or NULL for all n.
    const ptrdiff_t *limit;
    /// Running max (log2 domain) and sum per row, updated; alpha[r] = exp2(m_old − m_new) written.
    float *m, *l, *alpha;
    /// Optional: the masked log2 scores of each row (−∞ where masked), row stride ldraw.
    float *raw;
    ptrdiff_t ldraw;
} attend_softmax_step;

/// One short head whole (attend_attention_ukernel.short_head): nq ≤ ATTEND_ATTN_SHORT query rows against n ≤
/// ATTEND_ATTN_SHORT keys, every pointer at the head's row 0 (key 0), masks already cut to the keys [0, n).
typedef struct {
    ptrdiff_t nq, n, dk, dv;
    const float *q, *k, *v;
    ptrdiff_t ldq, ldk, ldv;
    float *o;
    ptrdiff_t ldo;
    /// scale·log2(e): the scores are in the log2 domain, as everywhere in the fused kernel.
    float c_s;
    /// Per-key log2-domain bias (−∞ = masked), or NULL.
    const float *key_bias;
    /// General mask at (row 0, key 0), row stride ldm (0 = one row for all), boolean or additive; or NULL.
    const float *mask;
    ptrdiff_t ldm;
    int mask_boolean;
    /// Row i sees keys j ≤ causal_offset + i only (when causal).
    int causal;
    ptrdiff_t causal_offset;
    /// Optional: softmax weights of keys [0, n) (row stride ldw; the caller zeroes keys past n), and the natural-log
    /// log-sum-exp of each row (−∞ when every key is masked).
    float *weights;
    ptrdiff_t ldw;
    float *lse;
    /// ≥ ATTEND_ATTN_NR·dk + ATTEND_ATTN_SHORT·(ATTEND_ATTN_SHORT + 3) floats, 64-byte aligned.
    float *scratch;
} attend_short_head;

/// Query rows and keys of a head that the short-head kernel takes whole (one vector of lanes).
#define ATTEND_ATTN_SHORT 16

typedef struct {
    attend_isa isa;
    /// s[r·lds + c] = c_s · Σ_p q[r·ldq + p] · Kᵀ[p, c] for r < mr ≤ MR and c < n rounded up to 16
    /// (packed keys past the end are zero, so the extra columns are 0); c_s = scale·log2(e), applied as the
    /// tile is stored (Q is read in place, not copied scaled).
    void (*scores)(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dk, const float *q, ptrdiff_t ldq,
                   const float *kt, float *s, ptrdiff_t lds, float c_s);
    /// The online-softmax step described by `step`.
    void (*softmax)(const attend_softmax_step *step);
    /// o[r] = (alpha[r] · acc[r] + Σ_{j<n} p[r·ldp + j] · v[j·ldv …]) · oscale[r] for r < mr, over dv columns
    /// exactly: acc = NULL counts as 0 (whatever alpha is), oscale = NULL as 1. acc (row stride lda) may be o
    /// itself; the driver accumulates in a scratch buffer and the strip's last key block writes O in place.
    void (*pv)(ptrdiff_t mr, ptrdiff_t n, ptrdiff_t dv, const float *p, ptrdiff_t ldp, const float *v,
               ptrdiff_t ldv, const float *alpha, const float *acc, ptrdiff_t lda, float *o, ptrdiff_t ldo,
               const float *oscale);
    /// w[j] = exp2(w[j] − m) · c for j < n, in place (w[j] = −∞ gives 0).
    void (*exp_scale)(float *w, ptrdiff_t n, float m, float c);
    /// Packs keys [0, n) (row p of key j at k[j·ldk + p]) into Kᵀ slivers, zero up to a multiple of 16
    /// keys; NULL: the driver's plain loop.
    void (*pack_kt)(const float *k, ptrdiff_t ldk, ptrdiff_t n, ptrdiff_t dk, float *kt);
    /// The whole head `h` (nq, n ≤ ATTEND_ATTN_SHORT): O = softmax(S + masks) V, and the weights and lse when asked,
    /// the same maths as the blocked path in one pass (sentences of a dozen tokens spent 85% of their attention time
    /// on the blocked path's per-strip set-up); NULL: short heads take the blocked path.
    void (*short_head)(const attend_short_head *h);
} attend_attention_ukernel;

/// The micro-kernels for `isa`, or the generic ones when this build or CPU lacks `isa`.
const attend_attention_ukernel *attend_attention_ukernel_for(attend_isa isa);

#endif
