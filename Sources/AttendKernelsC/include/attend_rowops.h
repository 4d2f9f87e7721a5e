#ifndef ATTEND_ROWOPS_H
#define ATTEND_ROWOPS_H
#include <stddef.h>
#include "attend_kernels.h"

// MARK: - Row kernels: bias + activation, (add +) layer norm, softmax
//
// Single-threaded; each works on a block of `rows` rows of `cols` floats, row r of a matrix at
// base + r·ld (ld ≥ cols, in floats), so a caller can hand it a sub-tile of a larger matrix or split
// the rows of one over threads. rows ≤ 0 or cols ≤ 0 does nothing. All arithmetic is float32.
//
// Scalar twins (the specification; the reference twins in Swift compute the same in Double):
//
//   bias_act:       v = y[r·ldy + j] + (bias ? bias[j] : 0)
//                   y[r·ldy + j] = act(v), where act is
//                     ATTEND_ACT_NONE       v
//                     ATTEND_ACT_GELU       v/2 · (1 + erf(v/√2)), erf(x) ≈ t·P(t²)/Q(t²) with
//                                           t = clamp(x, −4, 4), the rational fit of `Kernels.fastErf`
//                                           (|error| < 5e-7; erf(±4) rounds to ±1 in float)
//                     ATTEND_ACT_GELU_TANH  v/2 · (1 + tanh(u)), u = √(2/π) · (v + 0.044715·v³),
//                                           computed as v / (1 + exp(−2u)) (the same function, with no
//                                           cancellation for negative v)
//                     ATTEND_ACT_RELU       max(v, 0) (NaN stays NaN)
//
//   add_layernorm:  v[j]  = x[r·ldx + j] + (r ? r[r·ldr + j] : 0)
//                   mean  = Σ v[j] / cols
//                   var   = Σ (v[j] − mean)² / cols            (biased, two passes, as PyTorch)
//                   y[r·ldy + j] = (v[j] − mean) / √(var + eps) · (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0)
//
//   softmax_rows:   m = max_j x[j]; a row with m = −∞ (every entry −∞) becomes all zeros (never NaN);
//                   else x[j] = exp(x[j] − m) / Σ_k exp(x[k] − m)
//
// exp is Cody–Waite range reduction (x = n·ln2 + r, |r| ≤ ln2/2, ln2 split in two parts) and the
// degree-7 polynomial of Cephes' expf (≈1 ulp), times 2^n with correct underflow to 0 below −104
// and overflow to +∞ above 89. Sums are kept in several vector partial sums (a float sum in a
// different order from the plain loop). In place is allowed where a pointer may equal another
// (y == x, y == r for layer norm, with equal strides); partial overlap is not.

#pragma clang assume_nonnull begin

/// The activations of `bias_act` (its `act` argument).
enum {
    ATTEND_ACT_NONE = 0,
    ATTEND_ACT_GELU = 1,
    ATTEND_ACT_GELU_TANH = 2,
    ATTEND_ACT_RELU = 3,
};

/// y = act(y + bias) over a rows×cols block (see above). `bias` may be NULL; an unknown `act` acts as NONE.
typedef void (*attend_bias_act_fn)(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy,
                                   const float *_Nullable bias, int act);
/// y = LayerNorm(x + r) per row (see above); r, gamma and beta may be NULL (ldr is then ignored).
typedef void (*attend_add_layernorm_fn)(const float *x, const float *_Nullable r, float *y,
                                        ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx, ptrdiff_t ldr,
                                        ptrdiff_t ldy, const float *_Nullable gamma,
                                        const float *_Nullable beta, float eps);
/// In-place softmax of each row (see above).
typedef void (*attend_softmax_rows_fn)(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx);

/// One ISA's row kernels. Every field is set.
typedef struct {
    attend_isa isa;
    attend_bias_act_fn bias_act;
    attend_add_layernorm_fn add_layernorm;
    attend_softmax_rows_fn softmax_rows;
} attend_rowops;

/// The row kernels for `isa`, or the generic ones when this build or CPU lacks `isa` (NEON uses
/// the generic code, whose 4-float vectors compile to NEON on arm64). Never returns code the
/// running CPU cannot execute.
const attend_rowops *attend_rowops_for(attend_isa isa);

// The same kernels on this CPU's best ISA (for C callers).

void attend_bias_act(float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldy,
                     const float *_Nullable bias, int act);
void attend_add_layernorm(const float *x, const float *_Nullable r, float *y, ptrdiff_t rows,
                          ptrdiff_t cols, ptrdiff_t ldx, ptrdiff_t ldr, ptrdiff_t ldy,
                          const float *_Nullable gamma, const float *_Nullable beta, float eps);
/// add_layernorm with r = NULL.
void attend_layernorm(const float *x, float *y, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx,
                      ptrdiff_t ldy, const float *_Nullable gamma, const float *_Nullable beta,
                      float eps);
void attend_softmax_rows(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ldx);
/// In-place GELU of `count` contiguous floats: bias_act with one row, no bias, and
/// ATTEND_ACT_GELU_TANH when `approximate`, else ATTEND_ACT_GELU.
void attend_gelu(float *x, ptrdiff_t count, int approximate);

#pragma clang assume_nonnull end

#endif
