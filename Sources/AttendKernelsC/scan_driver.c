// The exact-search driver: chunks of stored rows claimed by the pool's threads, the per-ISA score
// kernels (scan_*.c; float32 rows on the GEMM's dot kernel), one bounded heap of k hits per thread and
// query, and the merge. ISA-neutral bookkeeping only. See attend_scan.h for the maths and the order.
#include <math.h>
#include <stdlib.h>
#include "attend_scan.h"

/// Stored bytes per chunk of rows: a chunk stays in L2 while the query groups pass over it.
#define CHUNK_BYTES (256 * 1024)
/// Queries scored per pass over a chunk (the scores buffer holds this many rows of chunk scores).
#define QUERY_GROUP 16
/// Multiply-adds below which a second thread does not pay for its wake-up.
static const double WORK_PER_THREAD = 1 << 18;

static inline ptrdiff_t elem_bytes(int storage) {
    return storage == ATTEND_SCAN_F32 ? 4 : storage == ATTEND_SCAN_F16 ? 2 : 1;
}

int attend_scan_scores(attend_isa isa, int storage, ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q,
                       ptrdiff_t ldq, const void *x, ptrdiff_t ldx, const float *scale, float *s, ptrdiff_t lds) {
    if (nq <= 0 || rows <= 0) return 0;
    switch (storage) {
    case ATTEND_SCAN_F32: {
        const attend_sgemm_ukernel *g = attend_sgemm_ukernel_for(isa);
        if (g->dot) g->dot(nq, rows, d, 1.0f, q, ldq, (const float *)x, ldx, 0.0f, s, lds);
        else attend_sgemm_small(0, 1, nq, rows, d, 1.0f, q, ldq, (const float *)x, ldx, 0.0f, s, lds);
        return 0;
    }
    case ATTEND_SCAN_F16:
        attend_scan_ukernel_for(isa)->f16(nq, rows, d, q, ldq, (const uint16_t *)x, ldx, s, lds);
        return 0;
    case ATTEND_SCAN_I8:
        if (!scale) return -1;
        attend_scan_ukernel_for(isa)->i8(nq, rows, d, q, ldq, (const int8_t *)x, ldx, scale, s, lds);
        return 0;
    default:
        return -1;
    }
}

// MARK: - Bounded heaps: the k best hits seen, the worst at h[0]

/// a is worse than b: a lower score, or an equal score and a higher row (scores are never NaN here).
static inline int worse(attend_scan_hit a, attend_scan_hit b) {
    return a.score < b.score || (a.score == b.score && a.row > b.row);
}

static void sift_down(attend_scan_hit *h, ptrdiff_t count, ptrdiff_t i) {
    for (;;) {
        const ptrdiff_t l = 2 * i + 1, r = l + 1;
        ptrdiff_t m = i;
        if (l < count && worse(h[l], h[m])) m = l;
        if (r < count && worse(h[r], h[m])) m = r;
        if (m == i) return;
        const attend_scan_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/// Offers (score, row) to a heap of capacity k holding *count hits.
static inline void offer(attend_scan_hit *h, ptrdiff_t *count, ptrdiff_t k, float score, int64_t row) {
    if (score != score) score = -INFINITY;
    const attend_scan_hit hit = {score, row};
    if (*count < k) {
        ptrdiff_t i = (*count)++;
        while (i > 0) {
            const ptrdiff_t p = (i - 1) / 2;
            if (!worse(hit, h[p])) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = hit;
    } else if (worse(h[0], hit)) {
        h[0] = hit;
        sift_down(h, *count, 0);
    }
}

/// Offers rows first … first + rows − 1 with scores s[0 ..< rows]: one compare each unless it enters.
static void offer_scores(attend_scan_hit *h, ptrdiff_t *count, ptrdiff_t k, const float *s, ptrdiff_t rows,
                         int64_t first) {
    ptrdiff_t r = 0;
    for (; r < rows && *count < k; ++r) offer(h, count, k, s[r], first + r);
    for (; r < rows; ++r) {
        float v = s[r];
        if (v != v) v = -INFINITY;
        if (v < h[0].score || (v == h[0].score && first + r > h[0].row)) continue;
        offer(h, count, k, v, first + r);
    }
}

// MARK: - The parallel scan

typedef struct {
    attend_isa isa;
    int storage;
    const char *x;
    ptrdiff_t ldx, n, d, nq, ldq, k, chunk_rows, chunks;
    const float *scale, *q;
    attend_scan_hit *heaps;   // [task][query][k]
    ptrdiff_t *counts;        // [task][query]
    float *scores;            // [task][QUERY_GROUP][chunk_rows]
    ptrdiff_t next;           // the next unclaimed chunk
} scan_job;

static void scan_task(void *ctx, ptrdiff_t t) {
    scan_job *job = (scan_job *)ctx;
    const ptrdiff_t es = elem_bytes(job->storage);
    attend_scan_hit *heaps = job->heaps + t * job->nq * job->k;
    ptrdiff_t *counts = job->counts + t * job->nq;
    float *scores = job->scores + t * QUERY_GROUP * job->chunk_rows;
    for (;;) {
        const ptrdiff_t c = attend_fetch_add(&job->next, 1);
        if (c >= job->chunks) return;
        const ptrdiff_t r0 = c * job->chunk_rows;
        const ptrdiff_t rows = job->n - r0 < job->chunk_rows ? job->n - r0 : job->chunk_rows;
        const char *x = job->x + r0 * job->ldx * es;
        const float *scale = job->storage == ATTEND_SCAN_I8 ? job->scale + r0 : job->scale;
        for (ptrdiff_t i0 = 0; i0 < job->nq; i0 += QUERY_GROUP) {
            const ptrdiff_t g = job->nq - i0 < QUERY_GROUP ? job->nq - i0 : QUERY_GROUP;
            attend_scan_scores(job->isa, job->storage, g, rows, job->d, job->q + i0 * job->ldq, job->ldq, x, job->ldx,
                               scale, scores, job->chunk_rows);   // [g, rows]
            for (ptrdiff_t i = 0; i < g; ++i)
                offer_scores(heaps + (i0 + i) * job->k, &counts[i0 + i], job->k, scores + i * job->chunk_rows, rows, r0);
        }
    }
}

ptrdiff_t attend_scan_topk(attend_isa isa, ptrdiff_t threads, int storage, const void *x, ptrdiff_t ldx,
                           const float *scale, ptrdiff_t n, ptrdiff_t d, const float *q, ptrdiff_t ldq, ptrdiff_t nq,
                           ptrdiff_t k, attend_scan_hit *out) {
    if (k < 1 || d < 1 || n < 0 || nq < 0 || ldx < d || ldq < d) return -1;
    if (storage != ATTEND_SCAN_F32 && storage != ATTEND_SCAN_F16 && storage != ATTEND_SCAN_I8) return -1;
    if (storage == ATTEND_SCAN_I8 && !scale) return -1;
    const ptrdiff_t kk = k < n ? k : n;
    if (kk == 0 || nq == 0) return kk;
    scan_job job = {0};
    job.isa = isa;
    job.storage = storage;
    job.x = (const char *)x;
    job.ldx = ldx;
    job.n = n;
    job.d = d;
    job.nq = nq;
    job.ldq = ldq;
    job.k = kk;
    job.scale = scale;
    job.q = q;
    ptrdiff_t chunk = CHUNK_BYTES / (d * elem_bytes(storage));
    chunk = chunk < 64 ? 64 : chunk / 16 * 16;
    job.chunk_rows = chunk < n ? chunk : n;
    job.chunks = (n + job.chunk_rows - 1) / job.chunk_rows;
    const double work = (double)n * (double)d * (double)nq;
    const ptrdiff_t by_work = work < 64.0 * WORK_PER_THREAD ? (ptrdiff_t)(work / WORK_PER_THREAD) : 64;
    ptrdiff_t width = threads < 64 ? threads : 64;
    if (width > job.chunks) width = job.chunks;
    if (width > by_work) width = by_work;
    if (width < 1) width = 1;
    job.heaps = (attend_scan_hit *)malloc(sizeof(attend_scan_hit) * (size_t)(width * nq * kk));
    job.counts = (ptrdiff_t *)calloc((size_t)(width * nq), sizeof(ptrdiff_t));
    job.scores = (float *)malloc(sizeof(float) * (size_t)(width * QUERY_GROUP * job.chunk_rows));
    if (!job.heaps || !job.counts || !job.scores) {
        free(job.heaps);
        free(job.counts);
        free(job.scores);
        return -1;
    }
    attend_parallel_run(width, scan_task, &job);
    // Merge: query i's heap of task 0 takes every hit of the others, then is emptied worst first
    // into out from the back, so out is best first.
    for (ptrdiff_t i = 0; i < nq; ++i) {
        attend_scan_hit *h = job.heaps + i * kk;
        ptrdiff_t count = job.counts[i];
        for (ptrdiff_t t = 1; t < width; ++t) {
            const attend_scan_hit *o = job.heaps + (t * nq + i) * kk;
            for (ptrdiff_t j = 0; j < job.counts[t * nq + i]; ++j) offer(h, &count, kk, o[j].score, o[j].row);
        }
        attend_scan_hit *dst = out + i * kk;
        while (count > 0) {
            dst[count - 1] = h[0];
            h[0] = h[--count];
            sift_down(h, count, 0);
        }
    }
    free(job.heaps);
    free(job.counts);
    free(job.scores);
    return kk;
}
