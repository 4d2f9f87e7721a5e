import AttendTestSupport
import Testing
@testable import AttendTensor

// The fast row kernels (bias + activation, (add +) layer norm, softmax, GELU: the per-ISA C code of
// attend_rowops.h behind `Kernels.*`) against their twins in `ReferenceKernels` (Double), with
// |got − ref| ≤ atol + rtol·|ref| per kernel.
//
// Every case runs on every ISA level this CPU supports (forced generic included) through three
// paths: contiguous rows on 1 thread, contiguous rows split over 2 threads of the pool, and a
// strided tile (row stride > cols, padding that must survive untouched). The ISA and thread count
// are passed explicitly, so the cases need no global switches and run in parallel.

private let sweepCols = [1, 2, 7, 15, 16, 17, 31, 33, 64, 383, 384, 1536]
private let sweepRows = [1, 3, 97, 384]

/// How a fast kernel is run.
private enum RowPath: CustomStringConvertible {
    /// Contiguous rows through the `Kernels` entry, on this many threads.
    case rows(threads: Int)
    /// A strided tile (row stride cols + pad) through the single-threaded tile entry.
    case tile(pad: Int)

    var description: String {
        switch self {
        case .rows(let t): return "rows/\(t) thread\(t == 1 ? "" : "s")"
        case .tile(let pad): return "tile/ld=cols+\(pad)"
        }
    }
    /// The row stride for `cols` columns (an extra `shift` lets two operands of one call differ).
    func ld(_ cols: Int, shift: Int = 0) -> Int {
        switch self {
        case .rows: return cols
        case .tile(let pad): return cols + pad + shift
        }
    }
}

private let rowPaths: [RowPath] = [.rows(threads: 1), .rows(threads: 2), .tile(pad: 3)]

/// Written into every padding element; a kernel that touches padding fails the comparison.
private let sentinel: Float = -12345.5

/// A `rows × ld` buffer holding `value(r, j)` in the first `cols` of each row and ``sentinel`` after.
private func strided(rows: Int, cols: Int, ld: Int, _ value: (Int, Int) -> Float) -> [Float] {
    var m = [Float](repeating: sentinel, count: rows * ld)
    for r in 0..<rows { for j in 0..<cols { m[r * ld + j] = value(r, j) } }
    return m
}

/// The contiguous `rows × cols` copy of a strided buffer.
private func compact(_ m: [Float], rows: Int, cols: Int, ld: Int) -> [Float] {
    var c = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows { for j in 0..<cols { c[r * cols + j] = m[r * ld + j] } }
    return c
}

/// Elements of a strided `got` outside |got − ref| ≤ atol + rtol·|ref| (NaN never passes unless both
/// are NaN), plus padding elements that no longer hold ``sentinel``; `ref` is contiguous.
/// Returns the count and a report naming the worst element and the first few.
private func rowMismatches(_ got: [Float], _ ref: [Float], rows: Int, cols: Int, ld: Int,
                           atol: Float, rtol: Float, rowAtol: [Float]? = nil) -> (count: Int, report: String) {
    var count = 0, first: [String] = []
    var worst: (r: Int, j: Int, excess: Double)? = nil
    for r in 0..<rows {
        for j in 0..<ld {
            let g = got[r * ld + j]
            if j >= cols {
                if g != sentinel || g.isNaN {
                    count += 1
                    if first.count < 5 { first.append("padding [\(r), \(j)] = \(g)") }
                }
                continue
            }
            let e = ref[r * cols + j]
            if g.isNaN && e.isNaN { continue }
            if g == e { continue }   // equal infinities
            let err = abs(Double(g) - Double(e))
            let allowed = Double(atol) + Double(rowAtol?[r] ?? 0) + Double(rtol) * abs(Double(e))
            if !(err <= allowed) {
                count += 1
                if first.count < 5 { first.append("[\(r), \(j)] got \(g) ref \(e)") }
                let excess = err.isNaN ? .infinity : err - allowed
                if worst == nil || excess > worst!.excess { worst = (r, j, excess) }
            }
        }
    }
    guard count > 0 else { return (0, "") }
    let worstText = worst.map { "worst [\($0.r), \($0.j)]: got \(got[$0.r * ld + $0.j]) ref \(ref[$0.r * cols + $0.j])" }
        ?? "padding overwritten"
    return (count, "\(count) mismatches (atol \(atol), rtol \(rtol)); \(worstText); first: \(first.joined(separator: "; "))")
}

private func expectRowsClose(_ got: [Float], _ ref: [Float], rows: Int, cols: Int, ld: Int,
                             atol: Float, rtol: Float, rowAtol: [Float]? = nil, _ label: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    let m = rowMismatches(got, ref, rows: rows, cols: cols, ld: ld, atol: atol, rtol: rtol, rowAtol: rowAtol)
    #expect(m.count == 0, "\(label): \(m.report)", sourceLocation: sourceLocation)
}

// MARK: - Bias + activation

/// Tolerances per activation. Exact GELU inherits `fastErf`'s |error| < 5e-7 times |v|/2 with
/// |v| ≤ 4√2 before the clamp (≤ 1.5e-6 absolute). The tanh form rounds u = √(2/π)(v + 0.044715v³)
/// to float, and exp(−2u) turns u's absolute error into relative error (up to ≈1.7e-6 near v = −4.7).
/// Observed worst |error| / allowed on x86-64: none/relu 0, gelu 0.56, geluTanh 0.36.
private func tolerance(_ act: FusedActivation) -> (atol: Float, rtol: Float) {
    switch act {
    case .none, .relu: return (1e-30, 1.2e-7)
    case .gelu: return (2e-6, 1e-6)
    case .geluTanh: return (1e-8, 2e-6)
    }
}

/// Mostly [−8, 8] (GELU's curved part and its clamp at |v/√2| = 4), with some large magnitudes.
private func activationInput(_ rng: inout SeededRNG, _ idx: Int) -> Float {
    let u = rng.float()
    if idx % 17 == 3 { return u * 1e4 }
    if idx % 29 == 7 { return u < 0 ? -1e30 : 1e30 }
    return 8 * u
}

@Suite("Row kernels vs reference twins")
struct RowOpsTests {
    @Test("bias + activation", arguments: sweepCols)
    func biasActivation(cols: Int) {
        var rng = SeededRNG(seed: UInt64(cols))
        for rows in sweepRows {
            let input = (0..<(rows * cols)).map { activationInput(&rng, $0) }
            let bias = (0..<cols).map { _ in rng.float() * 0.5 }
            for activation in [FusedActivation.none, .relu, .gelu, .geluTanh] {
                for withBias in [true, false] {
                    var expected = input
                    bias.withUnsafeBufferPointer { b in
                        expected.withUnsafeMutableBufferPointer { y in
                            ReferenceKernels.biasActivation(y.baseAddress!, rows: rows, cols: cols,
                                                            bias: withBias ? b.baseAddress : nil, activation: activation)
                        }
                    }
                    let (atol, rtol) = tolerance(activation)
                    for isa in KernelISA.supported {
                        for path in rowPaths {
                            let ld = path.ld(cols)
                            var got = strided(rows: rows, cols: cols, ld: ld) { r, j in input[r * cols + j] }
                            bias.withUnsafeBufferPointer { b in
                                got.withUnsafeMutableBufferPointer { y in
                                    let bp = withBias ? b.baseAddress : nil
                                    switch path {
                                    case .rows(let threads):
                                        Kernels.biasActivation(y.baseAddress!, rows: rows, cols: cols, bias: bp,
                                                               activation: activation, isa: isa, threads: threads)
                                    case .tile:
                                        Kernels.biasActivationTile(y.baseAddress!, rows: rows, cols: cols, ldy: ld, bias: bp,
                                                                   activation: activation, isa: isa)
                                    }
                                }
                            }
                            expectRowsClose(got, expected, rows: rows, cols: cols, ld: ld, atol: atol, rtol: rtol,
                                            "\(activation) bias=\(withBias) \(rows)×\(cols) isa=\(isa) \(path)")
                        }
                    }
                }
            }
        }
    }

    @Test("GELU of a contiguous run", arguments: [1, 3, 4095, 4096, 4097, 3 * 4096 + 5, 384 * 384])
    func gelu(count: Int) {
        var rng = SeededRNG(seed: UInt64(count) &+ 77)
        let input = (0..<count).map { activationInput(&rng, $0) }
        for approximate in [false, true] {
            var expected = input
            expected.withUnsafeMutableBufferPointer { ReferenceKernels.gelu($0.baseAddress!, count: count, approximate: approximate) }
            let (atol, rtol) = tolerance(approximate ? .geluTanh : .gelu)
            for isa in KernelISA.supported {
                for threads in [1, 2] {
                    var got = input
                    got.withUnsafeMutableBufferPointer {
                        Kernels.gelu($0.baseAddress!, count: count, approximate: approximate, isa: isa, threads: threads)
                    }
                    expectRowsClose(got, expected, rows: 1, cols: count, ld: count, atol: atol, rtol: rtol,
                                    "gelu approximate=\(approximate) count=\(count) isa=\(isa) threads=\(threads)")
                }
            }
        }
    }

    // MARK: - (Add +) layer norm

    /// Two-pass float mean and variance against Double. The float mean's rounding error (a few
    /// ulp of the values) is divided by the row's σ = √(var + eps): a row whose spread is small
    /// next to its values (cols = 2 with two close values) is ill-conditioned in float, so each row
    /// also gets ``layerNormConditionAtol`` · max|v| / σ · max|γ|, v = x + r.
    static let layerNormTolerance: (atol: Float, rtol: Float) = (5e-7, 2e-6)
    static let layerNormConditionAtol: Float = 2.5e-7

    @Test("(add +) layer norm", arguments: sweepCols)
    func layerNorm(cols: Int) {
        var rng = SeededRNG(seed: UInt64(cols) &+ 1000)
        for rows in sweepRows {
            let x = (0..<(rows * cols)).map { _ in 2 * rng.float() }
            let res = (0..<(rows * cols)).map { _ in rng.float() + 0.25 }
            let gamma = (0..<cols).map { _ in 1 + 0.5 * rng.float() }
            let beta = (0..<cols).map { _ in 0.2 * rng.float() }
            // (residual, gamma, beta, eps)
            let variants: [(Bool, Bool, Bool, Float)] = [
                (true, true, true, 1e-12), (false, true, true, 1e-5), (true, false, false, 1e-5),
                (false, false, false, 1e-12), (true, true, false, 1e-5), (false, false, true, 1e-5),
            ]
            for (v, (withResidual, withGamma, withBeta, eps)) in variants.enumerated() {
                let expected = layerNormReference(x, withResidual ? res : nil, rows: rows, cols: cols,
                                                  gamma: withGamma ? gamma : nil, beta: withBeta ? beta : nil, eps: eps)
                let rowAtol = layerNormRowAtol(x, withResidual ? res : nil, rows: rows, cols: cols,
                                               gammaMax: withGamma ? gamma.map(abs).max()! : 1, eps: eps)
                let label = "residual=\(withResidual) gamma=\(withGamma) beta=\(withBeta) eps=\(eps) \(rows)×\(cols)"
                for isa in KernelISA.supported {
                    for path in rowPaths {
                        for inPlace in v < 2 ? [false, true] : [false] {   // y == x: with and without r
                            // Distinct strides per operand on the tile path; in place, y shares x's.
                            let ldx = path.ld(cols, shift: 1), ldr = path.ld(cols, shift: 2)
                            let ldy = inPlace ? ldx : path.ld(cols)
                            var xs = strided(rows: rows, cols: cols, ld: ldx) { r, j in x[r * cols + j] }
                            let rs = strided(rows: rows, cols: cols, ld: ldr) { r, j in res[r * cols + j] }
                            var ys = strided(rows: rows, cols: cols, ld: ldy) { _, _ in .nan }
                            gamma.withUnsafeBufferPointer { g in
                                beta.withUnsafeBufferPointer { b in
                                    rs.withUnsafeBufferPointer { rp in
                                        xs.withUnsafeMutableBufferPointer { xp in
                                            ys.withUnsafeMutableBufferPointer { yp in
                                                let y = inPlace ? xp.baseAddress! : yp.baseAddress!
                                                let gp = withGamma ? g.baseAddress : nil, bp = withBeta ? b.baseAddress : nil
                                                let rpp = withResidual ? rp.baseAddress : nil
                                                switch path {
                                                case .rows(let threads):
                                                    Kernels.addLayerNormRows(xp.baseAddress!, rpp, y, rows: rows, cols: cols, gamma: gp,
                                                                             beta: bp, eps: eps, isa: isa, threads: threads)
                                                case .tile:
                                                    Kernels.addLayerNormTile(xp.baseAddress!, ldx: ldx, rpp, ldr: ldr, y, ldy: ldy,
                                                                             rows: rows, cols: cols, gamma: gp, beta: bp, eps: eps, isa: isa)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            let (atol, rtol) = Self.layerNormTolerance
                            expectRowsClose(inPlace ? xs : ys, expected, rows: rows, cols: cols, ld: ldy, atol: atol, rtol: rtol,
                                            rowAtol: rowAtol, "\(label) isa=\(isa) \(path) inPlace=\(inPlace)")
                        }
                    }
                }
            }
        }
    }

    // MARK: - Softmax

    /// exp is ≈1–2 ulp; the row sum and the reciprocal add a few more.
    static let softmaxTolerance: (atol: Float, rtol: Float) = (1e-12, 1e-6)

    @Test("softmax: ±80, −∞ entries, fully masked rows", arguments: sweepCols)
    func softmax(cols: Int) {
        var rng = SeededRNG(seed: UInt64(cols) &+ 2000)
        for rows in sweepRows {
            // Row 1 is fully −∞; row 2 keeps only its last entry; elsewhere about one in five is −∞.
            let input: [Float] = (0..<(rows * cols)).map { idx in
                let r = idx / cols, j = idx % cols
                let u = 80 * rng.float()
                if r == 1 { return -.infinity }
                if r == 2 { return j == cols - 1 ? u : -.infinity }
                return (r * 7 + j) % 5 == 4 ? -.infinity : u
            }
            var expected = input
            expected.withUnsafeMutableBufferPointer { ReferenceKernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols) }
            for isa in KernelISA.supported {
                for path in rowPaths {
                    let ld = path.ld(cols)
                    var got = strided(rows: rows, cols: cols, ld: ld) { r, j in input[r * cols + j] }
                    got.withUnsafeMutableBufferPointer { x in
                        switch path {
                        case .rows(let threads):
                            Kernels.softmaxRows(x.baseAddress!, rows: rows, cols: cols, isa: isa, threads: threads)
                        case .tile:
                            Kernels.softmaxTile(x.baseAddress!, rows: rows, cols: cols, ldx: ld, isa: isa)
                        }
                    }
                    let label = "softmax \(rows)×\(cols) isa=\(isa) \(path)"
                    let (atol, rtol) = Self.softmaxTolerance
                    expectRowsClose(got, expected, rows: rows, cols: cols, ld: ld, atol: atol, rtol: rtol, label)
                    if rows > 1 {
                        #expect((0..<cols).allSatisfy { got[ld + $0] == 0 }, "\(label): a fully −∞ row must become zeros")
                    }
                }
            }
        }
    }

    @Test("softmax of small and offset rows")
    func softmaxRanges() {
        var rng = SeededRNG(seed: 3000)
        for (scale, offset) in [(Float(1), Float(0)), (1e-3, 0), (5, 1e4), (80, -1e4)] {
            let rows = 5, cols = 300
            let input = (0..<(rows * cols)).map { _ in offset + scale * rng.float() }
            var expected = input
            expected.withUnsafeMutableBufferPointer { ReferenceKernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols) }
            for isa in KernelISA.supported {
                var got = input
                got.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols, isa: isa, threads: 1) }
                let (atol, rtol) = Self.softmaxTolerance
                expectRowsClose(got, expected, rows: rows, cols: cols, ld: cols, atol: atol, rtol: rtol,
                                "softmax scale=\(scale) offset=\(offset) isa=\(isa)")
            }
        }
    }

    // MARK: - Public entries

    @Test("the public entries follow forcedISA, and useReference routes to the twins")
    func publicEntries() {
        let rows = 97, cols = 384
        var rng = SeededRNG(seed: 4000)
        let x = (0..<(rows * cols)).map { _ in 4 * rng.float() }
        let r = (0..<(rows * cols)).map { _ in rng.float() }
        let g = (0..<cols).map { _ in 1 + 0.1 * rng.float() }
        /// Runs every public row entry on copies of the inputs; returns the outputs in order.
        func runAll() -> [[Float]] {
            var bias = x, ln = [Float](repeating: 0, count: rows * cols), addLN = ln, sm = x, ge = x
            g.withUnsafeBufferPointer { gp in
                x.withUnsafeBufferPointer { xp in
                    r.withUnsafeBufferPointer { rp in
                        bias.withUnsafeMutableBufferPointer {
                            Kernels.biasActivation($0.baseAddress!, rows: rows, cols: cols, bias: gp.baseAddress, activation: .gelu)
                        }
                        ln.withUnsafeMutableBufferPointer {
                            Kernels.layerNormRows(xp.baseAddress!, $0.baseAddress!, rows: rows, cols: cols,
                                                  gamma: gp.baseAddress, beta: nil, eps: 1e-12)
                        }
                        addLN.withUnsafeMutableBufferPointer {
                            Kernels.addLayerNormRows(xp.baseAddress!, rp.baseAddress!, $0.baseAddress!, rows: rows, cols: cols,
                                                     gamma: nil, beta: gp.baseAddress, eps: 1e-5)
                        }
                    }
                }
            }
            sm.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0.baseAddress!, rows: rows, cols: cols) }
            ge.withUnsafeMutableBufferPointer { Kernels.gelu($0.baseAddress!, count: rows * cols, approximate: true) }
            return [bias, ln, addLN, sm, ge]
        }
        let names = ["biasActivation", "layerNormRows", "addLayerNormRows", "softmaxRows", "gelu"]
        let tolerances = [tolerance(.gelu), Self.layerNormTolerance, Self.layerNormTolerance, Self.softmaxTolerance,
                          tolerance(.geluTanh)]
        let expected = Kernels.$useReference.withValue(true) { runAll() }
        for isa in KernelISA.supported {
            let got = Kernels.withSettings({ $0.isa = isa }) { runAll() }
            for i in names.indices {
                expectRowsClose(got[i], expected[i], rows: rows, cols: cols, ld: cols, atol: tolerances[i].atol,
                                rtol: tolerances[i].rtol, "\(names[i]) forcedISA=\(isa)")
            }
        }
    }

    @Test("row work splits over threads only above the threshold")
    func threading() {
        #expect(Kernels.rowThreads(rows: 1, cols: 1 << 20) == 1)
        #expect(Kernels.rowThreads(rows: 3, cols: 100) == 1)
        #expect(Kernels.rowThreads(rows: 384, cols: 384) == max(1, min(Kernels.maxThreads, 384)))
        #expect(Kernels.rowThreads(rows: .max, cols: .max) == max(1, Kernels.maxThreads))
        // Every row is visited exactly once, whatever the split.
        for (rows, threads) in [(1, 2), (2, 2), (97, 2), (384, 2), (5, 1), (7, 64)] {
            var seen = [Int](repeating: 0, count: rows)
            seen.withUnsafeMutableBufferPointer { s in
                let base = s.baseAddress!
                Kernels.forEachRowBlock(rows: rows, threads: threads) { lo, hi in
                    for i in lo..<hi { base[i] += 1 }
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "rows=\(rows) threads=\(threads)")
        }
    }

    @Test("the comparison flags a wrong value, a NaN and touched padding")
    func comparisonCanFail() {
        let ref: [Float] = [1, 2, 3, 4]
        let good = strided(rows: 2, cols: 2, ld: 3) { r, j in ref[r * 2 + j] }
        #expect(rowMismatches(good, ref, rows: 2, cols: 2, ld: 3, atol: 0, rtol: 0).count == 0)
        var wrong = good
        wrong[4] = 4.0001
        #expect(rowMismatches(wrong, ref, rows: 2, cols: 2, ld: 3, atol: 1e-6, rtol: 1e-6).count == 1)
        var nan = good
        nan[0] = .nan
        #expect(rowMismatches(nan, ref, rows: 2, cols: 2, ld: 3, atol: 1, rtol: 1).count == 1)
        var padding = good
        padding[2] = 0
        #expect(rowMismatches(padding, ref, rows: 2, cols: 2, ld: 3, atol: 1, rtol: 1).count == 1)
    }
}

/// Per-row extra absolute tolerance for layer norm (see ``RowOpsTests/layerNormConditionAtol``).
private func layerNormRowAtol(_ x: [Float], _ r: [Float]?, rows: Int, cols: Int, gammaMax: Float, eps: Float) -> [Float] {
    (0..<rows).map { row in
        let v = (0..<cols).map { j in Double(x[row * cols + j] + (r?[row * cols + j] ?? 0)) }
        let mean = v.reduce(0, +) / Double(cols)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
        let kappa = v.map(abs).max()! / (variance + Double(eps)).squareRoot()
        return RowOpsTests.layerNormConditionAtol * Float(kappa) * gammaMax
    }
}

/// The twins on contiguous copies: `LayerNorm(x + r)` or `LayerNorm(x)`.
private func layerNormReference(_ x: [Float], _ r: [Float]?, rows: Int, cols: Int,
                                gamma: [Float]?, beta: [Float]?, eps: Float) -> [Float] {
    var y = [Float](repeating: 0, count: rows * cols)
    let g = gamma ?? [], b = beta ?? []
    g.withUnsafeBufferPointer { gp in
        b.withUnsafeBufferPointer { bp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    let gptr = gamma == nil ? nil : gp.baseAddress, bptr = beta == nil ? nil : bp.baseAddress
                    if let r {
                        r.withUnsafeBufferPointer { rp in
                            ReferenceKernels.addLayerNormRows(xp.baseAddress!, rp.baseAddress!, yp.baseAddress!, rows: rows,
                                                              cols: cols, gamma: gptr, beta: bptr, eps: eps)
                        }
                    } else {
                        ReferenceKernels.layerNormRows(xp.baseAddress!, yp.baseAddress!, rows: rows, cols: cols,
                                                       gamma: gptr, beta: bptr, eps: eps)
                    }
                }
            }
        }
    }
    return y
}
