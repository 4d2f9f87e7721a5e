// The one ISA picker (internal to the kernel layer). Every kernel family — SGEMM, attention, row ops,
// scan, bf16 GEMM, the peak probes — lists one table getter per ISA in an `attend_isa_family` and asks
// `attend_isa_pick` for the table to run; the fallback rule lives only in dispatch.c.
//
// A family with tables `const T *name_generic(void)`, `name_avx2`, … defines its picker as
//
//     ATTEND_ISA_TABLE(name_generic) ATTEND_ISA_TABLE(name_avx2) …
//     const T *name_for(attend_isa isa) {
//         static const attend_isa_family family = {{ name_generic_table, name_avx2_table, NULL, NULL }};
//         return (const T *)attend_isa_pick(isa, &family);
//     }
//
// (indexed by attend_isa: generic, avx2, avx512, neon; NULL = no code for that ISA, e.g. NEON row ops).
#ifndef ATTEND_ISA_PICK_H
#define ATTEND_ISA_PICK_H
#include <stddef.h>
#include "attend_kernels.h"

enum { ATTEND_ISA_COUNT = 4 };

/// One ISA's table of a family, or NULL when this build has no code for that ISA or the CPU lacks a
/// feature the table needs beyond the ISA itself (F16C, AVX-512 BW or BF16, VNNI …).
typedef const void *(*attend_isa_table_fn)(void);

/// A kernel family: its table getter per ISA, indexed by attend_isa (a NULL getter = no table).
/// The generic getter must be set and never return NULL.
typedef struct {
    attend_isa_table_fn table[ATTEND_ISA_COUNT];
} attend_isa_family;

/// The ISA tried when `isa` has no table: AVX-512 → AVX2 → generic, NEON → generic.
attend_isa attend_isa_fallback(attend_isa isa);

/// The table `family` runs for a requested `isa` (the level Swift's KernelSettings resolved, from
/// `ATTEND_ISA`, a test's `withSettings { $0.isa = … }` or detection): an ISA the CPU cannot run becomes
/// generic; an ISA without a table falls back by `attend_isa_fallback`. Never returns code this CPU
/// cannot execute, never NULL.
const void *attend_isa_pick(attend_isa isa, const attend_isa_family *family);

/// Adapts a typed getter `const T *getter(void)` to `attend_isa_table_fn`, as `getter##_table`.
#define ATTEND_ISA_TABLE(getter) \
    static const void *getter##_table(void) { return getter(); }

#endif
