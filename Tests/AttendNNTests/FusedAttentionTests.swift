import AttendTestSupport
import Foundation
import Testing
@testable import AttendNN

/// The fused attention kernel (`Kernels.attention`) against its plain twin `referenceAttention` (Double),
/// on the forced generic micro-kernels and on the best ones, with one and two threads. Every comparison is
/// `|fused − ref| ≤ atol + rtol·|ref|`; a failure names the case, the path and the worst index.
@Suite("Fused attention")
struct FusedAttentionTests {
    // MARK: Sweeps

    /// Sequence lengths × head dims, each case labelled; causal and not, weights and log-sum-exp checked too.
    @Test(arguments: sweepCases)
    func sweepMatchesReference(_ c: Case) throws {
        let data = c.randomData(seed: UInt64(c.lq * 1_000 + c.lk * 7 + c.dk))
        for causal in [false, true] {
            let ref = try c.reference(data, causal: causal)
            for (isa, threads) in paths {
                let got = try c.fused(data, causal: causal, isa: isa, threads: threads)
                got.expectMatches(ref, "\(c) causal=\(causal) \(isa)×\(threads)")
            }
        }
    }

    /// One long sequence (ragged against every block size), causal and not.
    @Test func longSequence() throws {
        let c = Case(b: 1, h: 1, hkv: 1, lq: 1_003, lk: 1_003, dk: 8, dv: 8)
        let data = c.randomData(seed: 1_003)
        for causal in [false, true] {
            let ref = try c.reference(data, causal: causal)
            for (isa, threads) in [(KernelISA.best, 2), (KernelISA.generic, 1)] {
                let got = try c.fused(data, causal: causal, isa: isa, threads: threads)
                got.expectMatches(ref, "\(c) causal=\(causal) \(isa)×\(threads)", atol: 2e-6)
            }
        }
    }

    /// Grouped-query heads: query head h reads key/value head h / (H / Hkv); query rows split when heads are few.
    @Test(arguments: [(4, 1), (6, 3), (4, 2), (1, 1)])
    func groupedQueryHeads(_ heads: (Int, Int)) throws {
        let c = Case(b: 2, h: heads.0, hkv: heads.1, lq: 33, lk: 70, dk: 32, dv: 32)
        let data = c.randomData(seed: UInt64(heads.0 * 10 + heads.1))
        for causal in [false, true] {
            let ref = try c.reference(data, causal: causal)
            for (isa, threads) in paths {
                try c.fused(data, causal: causal, isa: isa, threads: threads).expectMatches(ref, "\(c) causal=\(causal) \(isa)×\(threads)")
            }
        }
        // Few heads, many query rows: the rows are cut into chunks that the threads share.
        guard heads.1 == 1 else { return }
        let tall = Case(b: 1, h: heads.0, hkv: heads.1, lq: 300, lk: 130, dk: 16, dv: 16)
        let tallData = tall.randomData(seed: 4)
        for causal in [false, true] {
            let ref = try tall.reference(tallData, causal: causal)
            try tall.fused(tallData, causal: causal, isa: .best, threads: 2).expectMatches(ref, "\(tall) causal=\(causal)")
        }
    }

    /// Short heads (Lq, Lk ≤ 16: a whole head in one pass with the query rows across the vector lanes where the ISA
    /// has that kernel, AVX-512): every row count against key counts around the lane width, head dims below, at and
    /// past 16, grouped heads; causal with and without a key offset; key masks that hide keys in the middle, the end
    /// and everywhere; boolean and additive general masks, one row broadcast over the queries. Lk = 17 takes the
    /// blocked path, for the boundary.
    @Test(arguments: [1, 2, 6, 7, 12, 16])
    func shortHeads(_ lq: Int) throws {
        for (lk, dk, dv) in [(1, 1, 1), (3, 5, 7), (12, 32, 32), (13, 16, 17), (16, 17, 64), (16, 33, 80), (17, 32, 32)] {
            let c = Case(b: 3, h: 4, hkv: lk % 2 == 0 ? 2 : 4, lq: lq, lk: lk, dk: dk, dv: dv)
            let data = c.randomData(seed: UInt64(lq * 100 + lk))
            var rng = SeededRNG(seed: UInt64(lk))
            // Batch 0 sees every key, batch 1 loses key 1 and the last, batch 2 every key.
            let keep = (0..<(3 * lk)).map { i -> Float in
                let (b, j) = (i / lk, i % lk)
                return b == 2 || (b == 1 && (j == 1 || j == lk - 1)) ? 0 : 1
            }
            let keyTensor = try Tensor(shape: [3, 1, 1, lk], scalars: keep)
            let boolean = Tensor.randomUniform([3, 4, lq, lk], rng: &rng).map { $0 < 0.75 ? 1 : 0 }
            let additive = Tensor.randomNormal([1, 4, 1, lk], std: 2, rng: &rng)
            let cases: [(String, AttentionMask?, [MaskSpec])] = [
                ("no mask", nil, []),
                ("key mask", .boolean(keyTensor), [.key(keep, batchStride: lk, isBoolean: true)]),
                ("boolean [B,H,Lq,Lk]", .boolean(boolean),
                 [.score(boolean.scalars, batch: 4 * lq * lk, head: lq * lk, row: lk, isBoolean: true)]),
                ("additive [1,H,1,Lk]", .additive(additive), [.score(additive.scalars, batch: 0, head: lk, row: 0, isBoolean: false)]),
            ]
            for (label, mask, specs) in cases {
                for (causal, offset) in [(false, 0), (true, 0), (true, 3)] {
                    let ref = try c.reference(data, causal: causal, keyOffset: offset, mask: mask)
                    for (isa, threads) in paths {
                        let got = try c.fused(data, causal: causal, keyOffset: offset, masks: specs, isa: isa, threads: threads)
                        got.expectMatches(ref, "\(c) \(label) causal=\(causal) offset=\(offset) \(isa)×\(threads)")
                        let bare = try c.fused(data, causal: causal, keyOffset: offset, masks: specs, isa: isa, threads: threads,
                                               weights: false)
                        #expect(bare.out == got.out, "\(c) \(label) causal=\(causal): the same output bits without weights")
                    }
                }
            }
        }
    }

    // MARK: Masks

    /// Key padding ([B, Lk] → the kernel's per-key mask): boolean and additive, with a batch whose keys are all
    /// padding (zero rows), and the same through `scaledDotProductAttention` with a `[B, 1, 1, Lk]` mask.
    @Test(arguments: [(16, 16), (7, 40), (97, 97)])
    func keyPadding(_ lengths: (Int, Int)) throws {
        let (lq, lk) = lengths
        let c = Case(b: 3, h: 2, hkv: 2, lq: lq, lk: lk, dk: 17, dv: 17)
        let data = c.randomData(seed: UInt64(lq + lk))
        let valid = [lk, Swift.max(1, lk / 3), 0]
        let boolean = valid.flatMap { n in (0..<lk).map { Float($0 < n ? 1 : 0) } }
        var rng = SeededRNG(seed: 3)
        let additive = valid.flatMap { n in (0..<lk).map { $0 < n ? rng.nextUnit() * 4 - 2 : -Float.infinity } }
        for (values, isBoolean) in [(boolean, true), (additive, false)] {
            let maskTensor = try Tensor(shape: [3, 1, 1, lk], scalars: values)
            let keyMask = MaskSpec.key(values, batchStride: lk, isBoolean: isBoolean)
            for causal in [false, true] {
                let ref = try c.reference(data, causal: causal, mask: isBoolean ? .boolean(maskTensor) : .additive(maskTensor))
                for (isa, threads) in paths {
                    let got = try c.fused(data, causal: causal, masks: [keyMask], isa: isa, threads: threads)
                    got.expectMatches(ref, "\(c) key mask boolean=\(isBoolean) causal=\(causal) \(isa)×\(threads)")
                    #expect(got.out[(2 * c.h * c.lq * c.dv)...].allSatisfy { $0 == 0 }, "all-padding batch gives zeros")
                }
                let sdpa = try scaledDotProductAttention(
                    query: data.q, key: data.k, value: data.v, mask: isBoolean ? .boolean(maskTensor) : .additive(maskTensor),
                    isCausal: causal, returnWeights: true)
                expectClose(sdpa.output, ref.output, atol: 1e-5, rtol: 1e-4, "sdpa output boolean=\(isBoolean) causal=\(causal)")
                expectClose(sdpa.weights!, ref.weights, atol: 1e-6, rtol: 1e-4, "sdpa weights boolean=\(isBoolean) causal=\(causal)")
            }
        }
    }

    /// A key mask that hides no key (all ones, or additive zeros: a batch of equal-length sentences) is dropped by the
    /// driver: the output, weights and lse are bit for bit those of no mask, on every ISA, short heads (Lk ≤ 16) and
    /// blocked ones, causal or not. One hidden key keeps the mask (and still matches the reference).
    @Test(arguments: [(12, 12), (33, 97)])
    func keyMaskHidingNothing(_ lengths: (Int, Int)) throws {
        let (lq, lk) = lengths
        let c = Case(b: 2, h: 2, hkv: 1, lq: lq, lk: lk, dk: 24, dv: 20)
        let data = c.randomData(seed: UInt64(7 * lq + lk))
        let ones = [Float](repeating: 1, count: 2 * lk), zeros = [Float](repeating: 0, count: 2 * lk)
        var oneHidden = ones
        oneHidden[lk + 5] = 0   // seen by every query row from row 5 on, causal or not
        for causal in [false, true] {
            let ref = try c.reference(data, causal: causal, mask: .boolean(try Tensor(shape: [2, 1, 1, lk], scalars: oneHidden)))
            for (isa, threads) in paths {
                let plain = try c.fused(data, causal: causal, isa: isa, threads: threads)
                for (values, isBoolean) in [(ones, true), (zeros, false)] {
                    let got = try c.fused(data, causal: causal, masks: [.key(values, batchStride: lk, isBoolean: isBoolean)],
                                          isa: isa, threads: threads)
                    let label = "\(c) boolean=\(isBoolean) causal=\(causal) \(isa)×\(threads)"
                    #expect(got.out == plain.out && got.weights == plain.weights && got.lse == plain.lse, "\(label)")
                }
                let masked = try c.fused(data, causal: causal, masks: [.key(oneHidden, batchStride: lk, isBoolean: true)],
                                         isa: isa, threads: threads)
                masked.expectMatches(ref, "\(c) one key hidden causal=\(causal) \(isa)×\(threads)")
                #expect(masked.out != plain.out, "hiding a key changes the output")
            }
        }
    }

    /// General masks: boolean [B, H, Lq, Lk], additive [Lq, Lk], additive broadcast over query rows [1, H, 1, Lk],
    /// and a key mask plus a general mask at once.
    @Test(arguments: [(7, 7), (17, 64), (64, 97)])
    func generalMasks(_ lengths: (Int, Int)) throws {
        let (lq, lk) = lengths
        let c = Case(b: 2, h: 3, hkv: 3, lq: lq, lk: lk, dk: 16, dv: 24)
        let data = c.randomData(seed: UInt64(lq * 3 + lk))
        var rng = SeededRNG(seed: 42)
        let boolean = Tensor.randomUniform([2, 3, lq, lk], rng: &rng).map { $0 < 0.7 ? 1 : 0 }
        let additive = Tensor.randomNormal([lq, lk], std: 2, rng: &rng)
        let perHeadKeys = Tensor.randomNormal([1, 3, 1, lk], std: 3, rng: &rng)
        let cases: [(String, AttentionMask, MaskSpec)] = [
            ("boolean [B,H,Lq,Lk]", .boolean(boolean),
             .score(boolean.scalars, batch: 3 * lq * lk, head: lq * lk, row: lk, isBoolean: true)),
            ("additive [Lq,Lk]", .additive(additive), .score(additive.scalars, batch: 0, head: 0, row: lk, isBoolean: false)),
            ("additive [1,H,1,Lk]", .additive(perHeadKeys), .score(perHeadKeys.scalars, batch: 0, head: lk, row: 0, isBoolean: false)),
        ]
        for (label, mask, spec) in cases {
            for causal in [false, true] {
                let ref = try c.reference(data, causal: causal, mask: mask)
                for (isa, threads) in paths {
                    let got = try c.fused(data, causal: causal, masks: [spec], isa: isa, threads: threads)
                    got.expectMatches(ref, "\(c) \(label) causal=\(causal) \(isa)×\(threads)")
                }
                let sdpa = try scaledDotProductAttention(query: data.q, key: data.k, value: data.v, mask: mask,
                                                         isCausal: causal, returnWeights: true)
                expectClose(sdpa.output, ref.output, atol: 1e-5, rtol: 1e-4, "sdpa \(label) causal=\(causal)")
                expectClose(sdpa.weights!, ref.weights, atol: 1e-6, rtol: 1e-4, "sdpa weights \(label) causal=\(causal)")
            }
        }
        // Key padding and a general additive mask together equal their sum.
        let keep = (0..<(2 * lk)).map { Float($0 % lk < lk - 2 || lk < 3 ? 1 : 0) }
        let summed = try Tensor(shape: [2, 1, lq, lk], scalars: (0..<(2 * lq * lk)).map { idx in
            let b = idx / (lq * lk), j = idx % lk
            return keep[b * lk + j] == 0 ? -.infinity : additive.scalars[idx % (lq * lk)]
        })
        let ref = try c.reference(data, causal: true, mask: .additive(summed))
        for (isa, threads) in paths {
            let got = try c.fused(data, causal: true, masks: [.key(keep, batchStride: lk, isBoolean: true),
                                                               .score(additive.scalars, batch: 0, head: 0, row: lk, isBoolean: false)],
                                  isa: isa, threads: threads)
            got.expectMatches(ref, "\(c) key + general causal \(isa)×\(threads)")
        }
    }

    /// A row whose every key is masked gives zero output, zero weights and log-sum-exp −∞, never NaN:
    /// by a general mask, by causality behind a key mask that hides key 0, and with no keys at all.
    @Test func fullyMaskedRows() throws {
        let c = Case(b: 1, h: 2, hkv: 1, lq: 9, lk: 70, dk: 8, dv: 5)
        let data = c.randomData(seed: 9)
        var m = [Float](repeating: 1, count: c.lq * c.lk)
        for j in 0..<c.lk { m[3 * c.lk + j] = 0; m[8 * c.lk + j] = 0 }   // rows 3 and 8 see nothing
        let maskTensor = try Tensor(shape: [c.lq, c.lk], scalars: m)
        let hideFirst = (0..<c.lk).map { Float($0 == 0 ? 0 : 1) }
        for (isa, threads) in paths {
            let general = try c.fused(data, causal: false, masks: [.score(m, batch: 0, head: 0, row: c.lk, isBoolean: true)],
                                      isa: isa, threads: threads)
            let ref = try c.reference(data, causal: false, mask: .boolean(maskTensor))
            general.expectMatches(ref, "general mask \(isa)×\(threads)")
            for h in 0..<c.h {
                for row in [3, 8] {
                    let o = (h * c.lq + row) * c.dv, w = (h * c.lq + row) * c.lk
                    #expect(general.out[o..<(o + c.dv)].allSatisfy { $0 == 0 })
                    #expect(general.weights[w..<(w + c.lk)].allSatisfy { $0 == 0 })
                    #expect(general.lse[h * c.lq + row] == -.infinity)
                }
            }
            // Causal: row 0 sees only key 0, which the key mask hides.
            let causal = try c.fused(data, causal: true, masks: [.key(hideFirst, batchStride: 0, isBoolean: true)],
                                     isa: isa, threads: threads)
            #expect(causal.out[0..<c.dv].allSatisfy { $0 == 0 }, "\(isa)×\(threads)")
            #expect(!causal.out.contains { $0.isNaN } && !causal.weights.contains { $0.isNaN })
            let causalRef = try c.reference(data, causal: true, mask: .boolean(try Tensor(shape: [1, 1, 1, c.lk], scalars: hideFirst)))
            causal.expectMatches(causalRef, "causal + key mask \(isa)×\(threads)")
            // No keys at all.
            let empty = Case(b: 1, h: 2, hkv: 2, lq: 3, lk: 0, dk: 4, dv: 4)
            let none = try empty.fused(empty.randomData(seed: 1), causal: false, isa: isa, threads: threads)
            #expect(none.out.allSatisfy { $0 == 0 } && none.lse.allSatisfy { $0 == -.infinity })
        }
    }

    /// Scores in the thousands (and a scale of 10) neither overflow nor lose the row maximum. A float32 score
    /// of magnitude |S| carries a rounding error of about |S|·ε, which shifts its weight by that relative
    /// amount, so the tolerance grows with max |S| (about 5e-4 for the scale 0.25 case, 2e-2 for scale 10,
    /// where every row is one-hot and the outputs are exact anyway).
    @Test func hugeScores() throws {
        let c = Case(b: 1, h: 2, hkv: 2, lq: 17, lk: 97, dk: 16, dv: 16)
        var data = c.randomData(seed: 11)
        data.q = data.q * 30
        data.k = data.k * 30
        for scale: Float in [0.25, 10] {
            for causal in [false, true] {
                let trace = try referenceAttention(query: data.q, key: data.k, value: data.v, isCausal: causal, scale: scale)
                let ref = try c.reference(data, causal: causal, scale: scale)
                let maxScore = trace.scaledScores.scalars.map { abs($0) }.max() ?? 0
                let atol = 1e-6 + 8 * Float.ulpOfOne * maxScore
                for (isa, threads) in paths {
                    let got = try c.fused(data, causal: causal, scale: scale, isa: isa, threads: threads)
                    #expect(!got.out.contains { !$0.isFinite } && !got.weights.contains { !$0.isFinite })
                    let label = "scale=\(scale) max|S|=\(maxScore) causal=\(causal) \(isa)×\(threads)"
                    expectClose(got.out, ref.output.scalars, atol: 4 * atol, rtol: 1e-4, "\(label) output")
                    expectClose(got.weights, ref.weights.scalars, atol: atol, rtol: 1e-4, "\(label) weights")
                    expectClose(got.lse, ref.lse, atol: atol, rtol: 1e-6, "\(label) log-sum-exp")
                }
            }
        }
    }

    // MARK: Layouts and determinism

    /// Heads read in place from one `[B, T, (H + 2·Hkv)·d]` projection buffer, output written into the rows of a
    /// wider `[B, T, H·d + 5]` buffer, equal to the contiguous computation (and the padding untouched).
    @Test(arguments: [(4, 4), (4, 2)])
    func stridedLayouts(_ heads: (Int, Int)) throws {
        let (h, hkv) = heads
        let (b, t, d) = (2, 37, 24)
        let width = (h + 2 * hkv) * d, outWidth = h * d + 5
        var rng = SeededRNG(seed: UInt64(h * 7 + hkv))
        let qkv = Tensor.randomNormal([b, t, width], rng: &rng).scalars
        // The same heads as contiguous [B, heads, T, d] tensors.
        func gather(_ offset: Int, _ n: Int) throws -> Tensor {
            var values: [Float] = []
            for bi in 0..<b { for hi in 0..<n { for ti in 0..<t { for di in 0..<d {
                values.append(qkv[(bi * t + ti) * width + offset + hi * d + di])
            } } } }
            return try Tensor(shape: [b, n, t, d], scalars: values)
        }
        let q = try gather(0, h), k = try gather(h * d, hkv), v = try gather((h + hkv) * d, hkv)
        let shape = Kernels.AttentionShape(batch: b, heads: h, kvHeads: hkv, queryLength: t, keyLength: t, keyDim: d, valueDim: d)
        let inPlace = HeadLayout(batch: t * width, head: d, row: width)
        for causal in [false, true] {
            let ref = try referenceAttention(query: q, key: k, value: v, isCausal: causal)
            for (isa, threads) in paths {
                var out = [Float](repeating: -7, count: b * t * outWidth)
                try qkv.withUnsafeBufferPointer { p in
                    try out.withUnsafeMutableBufferPointer { o in
                        try Kernels.attention(
                            shape: shape, q: p.baseAddress!, inPlace, k: p.baseAddress! + h * d, inPlace,
                            v: p.baseAddress! + (h + hkv) * d, inPlace,
                            out: o.baseAddress!, HeadLayout(batch: t * outWidth, head: d, row: outWidth),
                            scale: 1 / Float(d).squareRoot(), isCausal: causal, isa: isa, threads: threads)
                    }
                }
                // [B, T, H·d] → [B, H, T, d]
                var got: [Float] = []
                for bi in 0..<b { for hi in 0..<h { for ti in 0..<t { for di in 0..<d {
                    got.append(out[(bi * t + ti) * outWidth + hi * d + di])
                } } } }
                expectClose(got, ref.output.scalars, atol: 1e-5, rtol: 1e-4, "strided H=\(h) Hkv=\(hkv) causal=\(causal) \(isa)×\(threads)")
                let padding = (0..<(b * t)).flatMap { r in out[(r * outWidth + h * d)..<((r + 1) * outWidth)] }
                #expect(padding.allSatisfy { $0 == -7 }, "row padding untouched")
            }
        }
    }

    /// Asking for weights, or using another thread count, changes no output bit (each row's arithmetic is fixed).
    @Test func outputIndependentOfWeightsAndThreads() throws {
        let c = Case(b: 1, h: 3, hkv: 3, lq: 131, lk: 600, dk: 32, dv: 32)
        let data = c.randomData(seed: 21)
        for causal in [false, true] {
            for isa in Set([KernelISA.generic, .best]) {
                let base = try c.fused(data, causal: causal, isa: isa, threads: 1, weights: false)
                for threads in [1, 2] {
                    let withWeights = try c.fused(data, causal: causal, isa: isa, threads: threads)
                    #expect(withWeights.out == base.out, "causal=\(causal) \(isa)×\(threads)")
                }
            }
        }
    }

    /// `Kernels.useReference` routes the call to the plain twin `ReferenceKernels.attention`; the unfused twin
    /// (GEMM + softmax) agrees too.
    @Test func twinsAgree() throws {
        let c = Case(b: 2, h: 4, hkv: 2, lq: 19, lk: 45, dk: 20, dv: 12)
        let data = c.randomData(seed: 5)
        let mask = (0..<(2 * c.lk)).map { Float($0 % 5 == 4 ? 0 : 1) }
        let ref = try c.reference(data, causal: true, mask: .boolean(try Tensor(shape: [2, 1, 1, c.lk], scalars: mask)))
        let plain = try Kernels.$useReference.withValue(true) {
            try c.fused(data, causal: true, masks: [.key(mask, batchStride: c.lk, isBoolean: true)], isa: .best, threads: 2)
        }
        plain.expectMatches(ref, "ReferenceKernels.attention", atol: 1e-6, rtol: 1e-5)
        let unfused = try c.solve(data, causal: true, masks: [.key(mask, batchStride: c.lk, isBoolean: true)]) { unfusedAttention($0) }
        let (out, w) = (unfused.out, unfused.weights)
        expectClose(out, ref.output.scalars, atol: 1e-5, rtol: 1e-4, "unfused output")
        expectClose(w, ref.weights.scalars, atol: 1e-6, rtol: 1e-4, "unfused weights")
    }

    /// MultiHeadAttention's key padding reaches the kernel as a per-key mask and matches the reference composition.
    @Test func multiHeadKeyPadding() throws {
        var rng = SeededRNG(seed: 8)
        let mha = try MultiHeadAttention(embedDim: 32, heads: 4, rng: &rng)
        let x = Tensor.randomNormal([3, 13, 32], rng: &rng)
        let pad = try Tensor(shape: [3, 13], scalars: [13, 6, 1].flatMap { n in (0..<13).map { Float($0 < n ? 1 : 0) } })
        let out = try mha(query: x, keyPaddingMask: pad, weights: .perHead)
        let q = try x.matmul(mha.qProj).splitHeads(4), k = try x.matmul(mha.kProj).splitHeads(4)
        let v = try x.matmul(mha.vProj).splitHeads(4)
        let ref = try referenceAttention(query: q, key: k, value: v, mask: .boolean(try pad.reshaped([3, 1, 1, 13])))
        expectClose(out.output, try ref.output.mergeHeads().matmul(mha.outProj), atol: 1e-5, rtol: 1e-4)
        expectClose(out.weights!, ref.weights, atol: 1e-6, rtol: 1e-4)
    }

    @Test func rejectsBadSizes() {
        let c = Case(b: 1, h: 3, hkv: 2, lq: 2, lk: 2, dk: 2, dv: 2)
        #expect(throws: TensorError.self) { try c.fused(c.randomData(seed: 1), causal: false, isa: .generic, threads: 1) }
    }
}

// MARK: - Cases and helpers

/// Every ISA this CPU runs (generic forced, then e.g. AVX2 and AVX-512), each on one and two threads.
private let paths: [(KernelISA, Int)] = KernelISA.supported.flatMap { isa in [1, 2].map { (isa, $0) } }

/// Lq, Lk over 1, 7, 16, 17, 64, 97, 200 against every head dim (1, 15, 16, 17 and the fast 32, 64, 80, 96, 128),
/// plus the square lengths at d = 64 and a value dim unlike the key dim.
let sweepCases: [Case] = {
    let lengths = [1, 7, 16, 17, 64, 97, 200]
    let dims = [1, 15, 16, 17, 32, 64, 80, 96, 128]
    var cases = dims.enumerated().map { i, d in
        Case(b: 1, h: 2, hkv: i % 3 == 2 ? 1 : 2, lq: lengths[i % 7], lk: lengths[(3 * i + 1) % 7], dk: d, dv: d)
    }
    cases += lengths.map { Case(b: 2, h: 2, hkv: 2, lq: $0, lk: $0, dk: 64, dv: 64) }
    cases.append(Case(b: 1, h: 2, hkv: 2, lq: 17, lk: 97, dk: 32, dv: 80))
    cases.append(Case(b: 1, h: 1, hkv: 1, lq: 200, lk: 7, dk: 96, dv: 1))
    return cases
}()

struct Case: CustomStringConvertible, Sendable {
    var b, h, hkv, lq, lk, dk, dv: Int
    var description: String { "B=\(b) H=\(h)/\(hkv) Lq=\(lq) Lk=\(lk) dk=\(dk) dv=\(dv)" }

    struct Data { var q, k, v: Tensor }

    func randomData(seed: UInt64) -> Data {
        var rng = SeededRNG(seed: seed)
        return Data(q: Tensor.randomNormal([b, h, lq, dk], rng: &rng), k: Tensor.randomNormal([b, hkv, lk, dk], rng: &rng),
                    v: Tensor.randomNormal([b, hkv, lk, dv], rng: &rng))
    }

    /// The plain twin, plus each row's log-sum-exp computed in Double from its masked scores.
    func reference(_ d: Data, causal: Bool, keyOffset: Int = 0, scale: Float? = nil, mask: AttentionMask? = nil) throws
        -> (output: Tensor, weights: Tensor, lse: [Float]) {
        let t = try referenceAttention(query: d.q, key: d.k, value: d.v, mask: mask, isCausal: causal,
                                       causalKeyOffset: keyOffset, scale: scale)
        let s = t.maskedScores.scalars
        let lse: [Float] = (0..<(b * h * lq)).map { r in
            let row = s[(r * lk)..<((r + 1) * lk)].map(Double.init)
            guard let m = row.max(), m > -.infinity else { return -.infinity }
            return Float(m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }))
        }
        return (t.output, t.weights, lse)
    }

    /// The fused kernel on contiguous `[B, H, T, d]` buffers.
    func fused(_ d: Data, causal: Bool, keyOffset: Int = 0, scale: Float? = nil, masks: [MaskSpec] = [],
               isa: KernelISA, threads: Int, weights wantWeights: Bool = true) throws -> Fused {
        try solve(d, causal: causal, keyOffset: keyOffset, scale: scale, masks: masks, weights: wantWeights) {
            try Kernels.attention($0, isa: isa, threads: threads)
        }
    }

    /// One ``Kernels/AttentionProblem`` over contiguous `[B, H, T, d]` buffers, solved by `solver`
    /// (the fused kernel, or one of its twins).
    func solve(_ d: Data, causal: Bool, keyOffset: Int = 0, scale: Float? = nil, masks: [MaskSpec] = [],
               weights wantWeights: Bool = true, by solver: (Kernels.AttentionProblem) throws -> Void) throws -> Fused {
        var r = Fused(out: [Float](repeating: .nan, count: b * h * lq * dv),
                      weights: [Float](repeating: .nan, count: wantWeights ? b * h * lq * lk : 0),
                      lse: [Float](repeating: .nan, count: b * h * lq))
        let shape = Kernels.AttentionShape(batch: b, heads: h, kvHeads: hkv, queryLength: lq, keyLength: lk, keyDim: dk, valueDim: dv)
        var keyValues: [Float] = [], keyStride = 0, keyBoolean = false, hasKey = false
        var scoreValues: [Float] = [], scoreStrides = (0, 0, 0), scoreBoolean = false, hasScore = false
        for m in masks {
            switch m {
            case let .key(v, s, isB): (keyValues, keyStride, keyBoolean, hasKey) = (v, s, isB, true)
            case let .score(v, sb, sh, sr, isB): (scoreValues, scoreStrides, scoreBoolean, hasScore) = (v, (sb, sh, sr), isB, true)
            }
        }
        let (q, k, v) = (d.q.scalars, d.k.scalars, d.v.scalars)
        try q.withUnsafeBufferPointer { q in
            try k.withUnsafeBufferPointer { k in
                try v.withUnsafeBufferPointer { v in
                    try keyValues.withUnsafeBufferPointer { km in
                        try scoreValues.withUnsafeBufferPointer { sm in
                            try r.out.withUnsafeMutableBufferPointer { o in
                                try r.weights.withUnsafeMutableBufferPointer { w in
                                    try r.lse.withUnsafeMutableBufferPointer { l in
                                        try solver(Kernels.AttentionProblem(
                                            shape: shape, query: .init(q.baseAddress!, .contiguous(heads: h, length: lq, dim: dk)),
                                            key: .init(k.baseAddress ?? q.baseAddress!, .contiguous(heads: hkv, length: lk, dim: dk)),
                                            value: .init(v.baseAddress ?? q.baseAddress!, .contiguous(heads: hkv, length: lk, dim: dv)),
                                            output: o.baseAddress!, outputLayout: .contiguous(heads: h, length: lq, dim: dv),
                                            scale: scale ?? 1 / Float(dk).squareRoot(), isCausal: causal, causalKeyOffset: keyOffset,
                                            keyMask: hasKey ? .init(values: km.baseAddress!, batchStride: keyStride, isBoolean: keyBoolean) : nil,
                                            mask: hasScore ? .init(values: sm.baseAddress!, batchStride: scoreStrides.0, headStride: scoreStrides.1,
                                                                   rowStride: scoreStrides.2, isBoolean: scoreBoolean) : nil,
                                            weights: wantWeights ? w.baseAddress : nil, logSumExp: l.baseAddress))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return r
    }
}

enum MaskSpec {
    case key([Float], batchStride: Int, isBoolean: Bool)
    case score([Float], batch: Int, head: Int, row: Int, isBoolean: Bool)
}

struct Fused {
    var out: [Float]
    var weights: [Float]
    var lse: [Float]

    func expectMatches(_ ref: (output: Tensor, weights: Tensor, lse: [Float]), _ label: String,
                       atol: Float = 1e-6, rtol: Float = 1e-4, lseRtol: Float = 1e-6,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!out.contains { $0.isNaN }, "\(label): NaN in output", sourceLocation: sourceLocation)
        expectClose(out, ref.output.scalars, atol: atol, rtol: rtol, "\(label) output", sourceLocation: sourceLocation)
        if !weights.isEmpty {
            expectClose(weights, ref.weights.scalars, atol: 1e-6, rtol: 1e-4, "\(label) weights", sourceLocation: sourceLocation)
        }
        expectClose(lse, ref.lse, atol: 1e-5, rtol: lseRtol, "\(label) log-sum-exp", sourceLocation: sourceLocation)
    }
}
