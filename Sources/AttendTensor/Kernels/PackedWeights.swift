import AttendKernelsC

/// A weight matrix `W` stored `[n, k]` (PyTorch's Linear layout), packed once into the layout the GEMM
/// micro-kernel reads, so `X · Wᵀ` skips re-packing B on every call (``Kernels/linearGEMM``).
///
/// Layout: `k` is cut into the same slices the GEMM driver uses (`kc` deep, ``GEMMTuning/kcMax`` at most); each
/// slice holds the columns of `Wᵀ` in slivers of `NR` (the ISA's tile width), sliver `t` of slice `s` at
/// `data + s·kc·n̄ + t·kcur·NR`, element `(p, t·NR + c)` at `[p·NR + c]`, columns past `n` zero
/// (`n̄` = `n` rounded up to `NR`). Exactly what `pack_b(trans_b: 1, …)` writes, once.
///
/// Immutable after init and safe to share between threads. A packing made for one ISA level is used only
/// while that level is active (``isUsable``); otherwise the GEMM reads the raw weights as before.
public final class PackedWeights: @unchecked Sendable {
    public let n: Int
    public let k: Int
    /// The ISA level whose micro-kernel this packing is for.
    public let isa: KernelISA
    let nr: Int
    let kc: Int
    /// `n` rounded up to `nr`: the columns of each packed slice.
    let paddedN: Int
    let data: UnsafeMutablePointer<Float>
    let floats: Int

    /// Packs a weight tensor `[n, k]` (PyTorch's Linear layout) for the active ISA level.
    /// - Throws: ``TensorError/shapeMismatch(op:expected:actual:)`` unless `weight` is rank 2.
    public convenience init(_ weight: Tensor) throws {
        guard weight.rank == 2 else {
            throw TensorError.shapeMismatch(op: "PackedWeights", expected: "[n, k]", actual: weight.shape)
        }
        try self.init(n: weight.shape[0], k: weight.shape[1], count: weight.count) { pack in
            weight.scalars.withUnsafeBufferPointer { pack($0) }
        }
    }

    /// Packs `n` rows of `k` values read in place (e.g. from a memory-mapped file).
    /// - Throws: ``TensorError/shapeMismatch(op:expected:actual:)`` unless `values` holds `n·k` floats.
    public convenience init(values: UnsafeBufferPointer<Float>, n: Int, k: Int) throws {
        try self.init(n: n, k: k, count: values.count) { pack in pack(values) }
    }

    /// Allocates the packing and fills it from the values `read` lends to its argument.
    private init(n: Int, k: Int, count: Int, read: ((UnsafeBufferPointer<Float>) -> Void) -> Void) throws {
        guard n >= 0, k >= 0, count == n * k else {
            throw TensorError.shapeMismatch(op: "PackedWeights", expected: "[n, k] with \(count) values", actual: [n, k])
        }
        let uk = attend_sgemm_ukernel_for(Kernels.activeISA.cValue).pointee
        isa = KernelISA(uk.isa)
        self.n = n
        self.k = k
        nr = Int(uk.nr)
        kc = GEMM.sliceDepth(k)
        paddedN = (n + nr - 1) / nr * nr
        floats = Swift.max(1, paddedN * k)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * MemoryLayout<Float>.stride, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: floats)
        guard let packB = uk.pack_b, n > 0, k > 0 else { return }
        let (data, kc, nr) = (data, kc, nr)
        read { values in
            guard let w = values.baseAddress else { return }
            // One packing per (slice, sliver): the calls the GEMM would make on every call, made once.
            var offset = 0
            for pc in stride(from: 0, to: k, by: kc) {
                let kcur = Swift.min(kc, k - pc)
                for j in stride(from: 0, to: n, by: nr) {
                    packB(1, w + (j * k + pc), k, kcur, Swift.min(nr, n - j), data + offset)
                    offset += kcur * nr
                }
            }
        }
    }

    deinit { data.deallocate() }

    /// Bytes held by the packing.
    public var byteCount: Int { floats * MemoryLayout<Float>.stride }

    /// Whether micro-kernel set `uk` slicing k by `kc` can read this packing: the same ISA level, tile width
    /// and slice depth as at packing time (the GEMM passes what it already chose, so a concurrent switch of
    /// ISA or blocking cannot split them).
    func isUsable(with uk: attend_sgemm_ukernel, kc: Int) -> Bool {
        KernelISA(uk.isa) == isa && Int(uk.nr) == nr && kc == self.kc
    }

    /// The packed sliver holding columns `j ..< j + NR` of the slice starting at depth `pc`.
    @inline(__always)
    func sliver(pc: Int, j: Int) -> UnsafePointer<Float> {
        let kcur = Swift.min(kc, k - pc)
        return UnsafePointer(data + (pc * paddedN + (j / nr) * kcur * nr))
    }
}
