#ifndef ATTEND_PEAK_H
#define ATTEND_PEAK_H
#include <stdint.h>
#include "attend_kernels.h"

// MARK: - The machine's arithmetic peak (`attend bench peak`)
//
// Each probe runs `iterations` rounds of ATTEND_PEAK_CHAINS independent dependency chains of one
// instruction kind, entirely in registers (no loads or stores inside the loop), so its rate is the
// core's issue limit for that instruction: the number `attend bench peak` divides every other result by.
//
//   fp32  acc ← fma(acc, a, b) on the ISA's widest float vector (generic: scalar fmaf)
//         work counted: 2 flops per lane per instruction (multiply + add)
//   int8  acc ← acc + Σ₄ u8·s8 (AVX-512 VNNI vpdpbusd; AVX-VNNI on ymm when the CPU has it, otherwise
//         AVX2's vpmaddubsw + vpmaddwd + vpaddd, the sequence int8 GEMMs without VNNI use; NEON sdot;
//         generic: scalar int32 multiply-adds)
//         work counted: 2 ops per multiply-add of two 8-bit numbers
//
// ATTEND_PEAK_CHAINS chains cover latency × ports of every current core (4-cycle FMA on 2 ports needs 8).
// The return value is a checksum of the accumulators, so the compiler cannot drop the loop; the
// operations performed per call are written to *ops.

#define ATTEND_PEAK_CHAINS 16

/// Runs the fp32 probe of `isa` (falls back to generic when the CPU lacks it); returns a checksum.
float attend_peak_fp32(attend_isa isa, int64_t iterations, double *ops);

/// Runs the int8 probe of `isa`; returns a checksum. *variant is set to a short static name of the
/// instruction sequence used ("vpdpbusd zmm", "vpdpbusd ymm (AVX-VNNI)", "vpmaddubsw+vpmaddwd ymm", …).
int32_t attend_peak_int8(attend_isa isa, int64_t iterations, double *ops, const char **variant);

#endif
