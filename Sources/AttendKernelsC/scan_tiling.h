// The tiling of the exact-search score kernels, shared by scan_avx2.c, scan_avx512.c and scan_neon.c (not a public
// header: each of those files includes it once, inside its ISA's #if, after defining
//   SCAN_ATTR    its target attribute (empty for NEON),
//   SCAN_W       the accumulators of one tile (Q queries × R rows, Q·R = SCAN_W: 8 on AVX2 and NEON, 16 on AVX-512),
//   SCAN_ISA     its attend_isa value, and SCAN_SUFFIX the suffix of its entry points (avx2, avx512, neon),
// and its own always-inline `tile(i8, Q, R, d, qp, xp, scale, s, lds, nqv, nrv)` (see scan_avx2.c).
// It defines `scan` (every query against every row), the f16 and int8 entry points and the ukernel table
// `attend_scan_ukernel_SUFFIX()`.
//
// Tiles: queries four at a time (4 × W/4), then two (2 × W/2), then one (1 × W); one query's last few rows take
// 1 × W/2 or 1 × W/4 tiles, so no sums are wasted on repeated rows.
#define SCAN_CAT2(a, b) a##b
#define SCAN_CAT(a, b) SCAN_CAT2(a, b)

SCAN_ATTR static inline __attribute__((always_inline)) void
scan(const int i8, ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq, const void *x,
     ptrdiff_t ldx, const float *scale, float *s, ptrdiff_t lds) {
    const ptrdiff_t es = i8 ? 1 : 2;
    ptrdiff_t i0 = 0;
    while (i0 < nq) {
        const int Q = nq - i0 >= 4 ? 4 : nq - i0 >= 2 ? 2 : 1;
        const float *qp[4];
        for (int i = 0; i < Q; ++i) qp[i] = q + (i0 + i) * ldq;
        for (ptrdiff_t r0 = 0; r0 < rows;) {
            const ptrdiff_t left = rows - r0;
            const int R = Q > 1 ? SCAN_W / Q : left > SCAN_W / 2 ? SCAN_W : left > SCAN_W / 4 ? SCAN_W / 2 : SCAN_W / 4;
            const ptrdiff_t nrv = left < R ? left : R;
            const void *xp[SCAN_W];
            for (int r = 0; r < R; ++r) xp[r] = (const char *)x + (r0 + (r < nrv ? r : nrv - 1)) * ldx * es;
            const float *sc = i8 ? scale + r0 : scale;
            float *so = s + i0 * lds + r0;
            if (Q == 4) tile(i8, 4, SCAN_W / 4, d, qp, xp, sc, so, lds, 4, nrv);
            else if (Q == 2) tile(i8, 2, SCAN_W / 2, d, qp, xp, sc, so, lds, 2, nrv);
            else if (R == SCAN_W) tile(i8, 1, SCAN_W, d, qp, xp, sc, so, lds, 1, nrv);
            else if (R == SCAN_W / 2) tile(i8, 1, SCAN_W / 2, d, qp, xp, sc, so, lds, 1, nrv);
            else tile(i8, 1, SCAN_W / 4, d, qp, xp, sc, so, lds, 1, nrv);
            r0 += nrv;
        }
        i0 += Q;
    }
}

SCAN_ATTR static void SCAN_CAT(scan_f16_, SCAN_SUFFIX)(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q,
                                                      ptrdiff_t ldq, const uint16_t *x, ptrdiff_t ldx, float *s,
                                                      ptrdiff_t lds) {
    scan(0, nq, rows, d, q, ldq, x, ldx, 0, s, lds);
}

SCAN_ATTR static void SCAN_CAT(scan_i8_, SCAN_SUFFIX)(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q,
                                                     ptrdiff_t ldq, const int8_t *x, ptrdiff_t ldx,
                                                     const float *scale, float *s, ptrdiff_t lds) {
    scan(1, nq, rows, d, q, ldq, x, ldx, scale, s, lds);
}

static const attend_scan_ukernel SCAN_CAT(ukernel_, SCAN_SUFFIX) = {SCAN_ISA, SCAN_CAT(scan_f16_, SCAN_SUFFIX),
                                                                    SCAN_CAT(scan_i8_, SCAN_SUFFIX)};

const attend_scan_ukernel *SCAN_CAT(attend_scan_ukernel_, SCAN_SUFFIX)(void) {
    return &SCAN_CAT(ukernel_, SCAN_SUFFIX);
}
