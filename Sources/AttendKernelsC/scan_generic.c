// Portable score kernels for exact search (every CPU), and the run-time choice among the ISAs.
//
// Scalar twin (the specification; this file is it), for i < nq, r < rows, one float32 sum in j order:
//   F16:  s[i·lds + r] = Σ_{j<d} half(x[r·ldx + j]) · q[i·ldq + j]
//   I8:   s[i·lds + r] = scale[r] · Σ_{j<d} float(x[r·ldx + j]) · q[i·ldq + j]
// half() is attend_half_to_float: exact for every binary16 (subnormals, infinities, NaN).
#include "attend_quant.h"
#include "attend_scan.h"

static void scan_f16_generic(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq,
                             const uint16_t *x, ptrdiff_t ldx, float *s, ptrdiff_t lds) {
    for (ptrdiff_t i = 0; i < nq; ++i) {
        const float *qi = q + i * ldq;
        for (ptrdiff_t r = 0; r < rows; ++r) {
            const uint16_t *xr = x + r * ldx;
            float sum = 0.0f;
            for (ptrdiff_t j = 0; j < d; ++j) sum += attend_half_to_float(xr[j]) * qi[j];
            s[i * lds + r] = sum;
        }
    }
}

static void scan_i8_generic(ptrdiff_t nq, ptrdiff_t rows, ptrdiff_t d, const float *q, ptrdiff_t ldq,
                            const int8_t *x, ptrdiff_t ldx, const float *scale, float *s, ptrdiff_t lds) {
    for (ptrdiff_t i = 0; i < nq; ++i) {
        const float *qi = q + i * ldq;
        for (ptrdiff_t r = 0; r < rows; ++r) {
            const int8_t *xr = x + r * ldx;
            float sum = 0.0f;
            for (ptrdiff_t j = 0; j < d; ++j) sum += (float)xr[j] * qi[j];
            s[i * lds + r] = scale[r] * sum;
        }
    }
}

static const attend_scan_ukernel ukernel_generic = {ATTEND_ISA_GENERIC, scan_f16_generic, scan_i8_generic};

const attend_scan_ukernel *attend_scan_ukernel_generic(void) { return &ukernel_generic; }
