// The int16-activation kernel body (attend_quant.h, "Int16 path"), included by quant_avx512.c and quant_avx2.c once per
// variant with these macros defined:
//   Q16_T               the target attribute of the variant's functions
//   Q16_FN(name)        the variant's name for `name`
//   Q16_F, Q16_W, Q16_X the float accumulator vector, a block's 32 weight quants, a block's 32 activation quants
//   Q16_LOAD_W(q, blk)  the int16 weight quants of the block at blk (type q); Q16_LOAD_X(p) the 32 int16 at p
//   Q16_DOT(w, x)       the exact int32 sums of w[t]·x[t] over the block, in lanes, converted to float
//   Q16_ZERO(), Q16_FMA(a, b, c) (a·b + c), Q16_HSUM(v) (the sum of v's lanes)
//   Q16_BCAST(v)        lane 0 of the __m128 v in every lane of a Q16_F
//   Q16_SCALES(q, blk)  the block's scales as an __m128 [d_w, c_w, ·, ·]: c_w = m (Q4_1), −8·d_w (Q4_0), 0 (Q8_0)
//   Q16_NMAX            weight rows per tile when the tile has at most 2 activation rows (2 or 4; else 2)
// Per block and tile entry (r, c): acc[r][c] += float(Σ_lanes-wise qw·qx) · (d_w·d_x) with one FMA (d_w·d_x one
// float32 product), and the block constant c_b = c_w · sx in lane 1 of a 128-bit FMA on the scale pair
// (accm[r][c] += [d_w, c_w] · sx; lane 0 is unused); y = hsum(acc) + lane 1 of accm. So the maths and the float32
// rounding are those of the plain C twin, attend_quant_dot_q16_reference (quant_generic.c), up to the order of the
// final lane sum. A tile is up to 4 activation rows × 2 weight rows, or up to 2 activation rows × Q16_NMAX weight
// rows (decode: each activation block loaded once for 4 weight rows, 4 independent weight streams). Each weight
// row's stream is prefetched Q16_PREFETCH bytes ahead (about the next tile's rows), which no hardware prefetcher
// reliably does across the tile's interleaved rows.

#define Q16_PREFETCH 1024

Q16_T static inline __attribute__((always_inline)) void
Q16_FN(tile)(const int qtype, const int rows, const int cols, ptrdiff_t nb, const int16_t *qx, const float *dx,
             const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t bb = attend_quant_block_bytes(qtype), kx = 32 * nb;
    Q16_F acc[4][Q16_NMAX];
    __m128 accm[4][Q16_NMAX];
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) { acc[r][c] = Q16_ZERO(); accm[r][c] = _mm_setzero_ps(); }
    for (ptrdiff_t b = 0; b < nb; ++b) {
        Q16_W wq[Q16_NMAX];
        __m128 dc[Q16_NMAX];
        for (int c = 0; c < cols; ++c) {
            const uint8_t *blk = w + c * ldw + b * bb;
            _mm_prefetch((const char *)(blk + Q16_PREFETCH), _MM_HINT_T0);
            dc[c] = Q16_SCALES(qtype, blk);
            wq[c] = Q16_LOAD_W(qtype, blk);
        }
        for (int r = 0; r < rows; ++r) {
            const Q16_X xq = Q16_LOAD_X(qx + r * kx + 32 * b);
            const __m128 d = _mm_set1_ps(dx[r * nb + b]), s = _mm_set1_ps(sx[r * nb + b]);
            for (int c = 0; c < cols; ++c) {
                acc[r][c] = Q16_FMA(Q16_DOT(wq[c], xq), Q16_BCAST(_mm_mul_ss(dc[c], d)), acc[r][c]);
                if (qtype != ATTEND_QTYPE_Q8_0) accm[r][c] = _mm_fmadd_ps(dc[c], s, accm[r][c]);
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            const float constants = qtype == ATTEND_QTYPE_Q8_0 ? 0.0f : _mm_cvtss_f32(_mm_movehdup_ps(accm[r][c]));
            y[r * ldy + c] = Q16_HSUM(acc[r][c]) + constants;
        }
}

Q16_T static inline __attribute__((always_inline)) void
Q16_FN(columns)(const int qtype, const int cols, ptrdiff_t m, ptrdiff_t nb, const int16_t *qx, const float *dx,
                const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const ptrdiff_t kx = 32 * nb;
    ptrdiff_t i = 0;
    for (; i + 4 <= m; i += 4)
        Q16_FN(tile)(qtype, 4, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy);
    switch (m - i) {
    case 3: Q16_FN(tile)(qtype, 3, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    case 2: Q16_FN(tile)(qtype, 2, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    case 1: Q16_FN(tile)(qtype, 1, cols, nb, qx + i * kx, dx + i * nb, sx + i * nb, w, ldw, y + i * ldy, ldy); break;
    default: break;
    }
}

// Inlined into each case of Q16_FN(dot) so qtype is a constant there (a shared copy kept its branches in the loop).
Q16_T static inline __attribute__((always_inline)) void Q16_FN(dot_type)(const int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int16_t *qx,
                                   const float *dx, const float *sx, const uint8_t *w, ptrdiff_t ldw, float *y,
                                   ptrdiff_t ldy) {
    ptrdiff_t j = 0;
    // Up to 2 activation rows: Q16_NMAX weight rows per tile (columns with 3 or more rows keep tiles of 4 × 2).
    if (Q16_NMAX > 2 && m <= 2)
        for (; j + Q16_NMAX <= n; j += Q16_NMAX)
            Q16_FN(columns)(qtype, Q16_NMAX, m, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
    for (; j + 2 <= n; j += 2) Q16_FN(columns)(qtype, 2, m, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
    if (j < n) Q16_FN(columns)(qtype, 1, m, nb, qx, dx, sx, w + j * ldw, ldw, y + j, ldy);
}

Q16_T static void Q16_FN(dot)(int qtype, ptrdiff_t m, ptrdiff_t n, ptrdiff_t nb, const int16_t *qx, const float *dx,
                              const float *sx, const void *w, ptrdiff_t ldw, float *y, ptrdiff_t ldy) {
    const uint8_t *wb = (const uint8_t *)w;
    switch (qtype) {
    case ATTEND_QTYPE_Q4_0: Q16_FN(dot_type)(ATTEND_QTYPE_Q4_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q4_1: Q16_FN(dot_type)(ATTEND_QTYPE_Q4_1, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    case ATTEND_QTYPE_Q8_0: Q16_FN(dot_type)(ATTEND_QTYPE_Q8_0, m, n, nb, qx, dx, sx, wb, ldw, y, ldy); break;
    default: break;
    }
}
