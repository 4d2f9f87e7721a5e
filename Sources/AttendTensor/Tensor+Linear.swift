/// Fused ops of a transformer block: a linear layer with its bias and activation in one epilogue,
/// and a residual sum with its layer norm in one pass.
extension Tensor {
    /// `act(x · weightᵀ + bias)`: `x` `[..., in]`, `weight` `[out, in]` (PyTorch layout), `bias` `[out]` → `[..., out]`.
    ///
    /// `packed`, when given, is `weight` pre-packed (``PackedWeights``) so the GEMM skips packing it; the bias and
    /// activation run on each output tile as soon as the GEMM finishes it, while it is still in cache.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, activation: FusedActivation = .none,
                              packed: PackedWeights? = nil) throws -> Tensor {
        guard weight.rank == 2 else {
            throw TensorError.shapeMismatch(op: "linear weight", expected: "[out, in]", actual: weight.shape)
        }
        return try weight.scalars.withUnsafeBufferPointer { w in
            try linear(x, weightValues: w, weightShape: weight.shape, bias: bias, activation: activation, packed: packed)
        }
    }

    /// ``linear(_:weight:bias:activation:packed:)`` on weight values read in place (`weightShape` `[out, in]`),
    /// e.g. from a memory-mapped file.
    public static func linear(_ x: Tensor, weightValues: UnsafeBufferPointer<Float>, weightShape: [Int], bias: Tensor?,
                              activation: FusedActivation = .none, packed: PackedWeights? = nil) throws -> Tensor {
        guard weightShape.count == 2, weightValues.count == weightShape[0] * weightShape[1] else {
            throw TensorError.shapeMismatch(op: "linear weight", expected: "[out, in] with \(weightValues.count) values",
                                            actual: weightShape)
        }
        let (out, inF) = (weightShape[0], weightShape[1])
        let rows = try linearRows("linear", x, out: out, in: inF, bias: bias)
        if let packed, packed.n != out || packed.k != inF {
            throw TensorError.shapeMismatch(op: "linear packed weights", expected: "[\(out), \(inF)]", actual: [packed.n, packed.k])
        }
        // Every element is written by the GEMM (beta = 0) or, with no inputs, zero-filled below.
        let y = [Float](unsafeUninitializedCapacity: rows * out) { yp, initialized in
            initialized = rows * out
            guard rows > 0, out > 0, let yBase = yp.baseAddress else { return }
            if inF == 0 { yBase.update(repeating: 0, count: rows * out) }
            x.scalars.withUnsafeBufferPointer { xp in
                let wp = weightValues
                (bias?.scalars ?? []).withUnsafeBufferPointer { bp in
                    let b = bias == nil ? nil : bp.baseAddress
                    guard inF > 0, let xBase = xp.baseAddress, let wBase = wp.baseAddress else {
                        Kernels.biasActivation(yBase, rows: rows, cols: out, bias: b, activation: activation)
                        return
                    }
                    if Kernels.useReference {
                        Kernels.sgemm(transA: false, transB: true, m: rows, n: out, k: inF,
                                      a: xBase, lda: inF, b: wBase, ldb: inF, c: yBase, ldc: out)
                        Kernels.biasActivation(yBase, rows: rows, cols: out, bias: b, activation: activation)
                        return
                    }
                    let needsEpilogue = b != nil || activation != .none
                    let isa = Kernels.activeISA   // read here: the epilogue runs on pool threads, outside this task
                    GEMM.sgemm(transA: false, transB: true, m: rows, n: out, k: inF, alpha: 1,
                               a: xBase, lda: inF, b: wBase, ldb: inF, beta: 0, c: yBase, ldc: out,
                               packedB: packed, epilogue: needsEpilogue ? { tile, tileRows, cols, col0 in
                                   Kernels.biasActivationTile(tile, rows: tileRows, cols: cols, ldy: out,
                                                              bias: b.map { $0 + col0 }, activation: activation, isa: isa)
                               } : nil)
                }
            }
        }
        return Tensor(uncheckedShape: Array(x.shape.dropLast()) + [out], scalars: y)
    }

    /// Checks a linear layer's input `[..., in]` and bias `[out]` (errors name `op`) and returns the number of
    /// input rows: the product of the leading axes (not `count / in`, which is 0 when `in` = 0).
    static func linearRows(_ op: String, _ x: Tensor, out: Int, in inF: Int, bias: Tensor?) throws -> Int {
        guard x.rank >= 1, x.shape.last == inF else {
            throw TensorError.shapeMismatch(op: "\(op) input", expected: "[..., \(inF)]", actual: x.shape)
        }
        if let bias, bias.shape != [out] {
            throw TensorError.shapeMismatch(op: "\(op) bias", expected: "[\(out)]", actual: bias.shape)
        }
        return x.shape.dropLast().reduce(1, *)
    }

    /// `LayerNorm(self + residual)` over the last axis, in one pass.
    public func addingLayerNorm(_ residual: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        guard residual.shape == shape else { throw TensorError.incompatibleShapes(op: "addingLayerNorm", shape, residual.shape) }
        guard let cols = shape.last, cols > 0 else { throw TensorError.invalidArgument(op: "addingLayerNorm", "needs a non-empty last axis, got \(shape)") }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let t, t.shape != [cols] { throw TensorError.shapeMismatch(op: "addingLayerNorm \(name)", expected: "[\(cols)]", actual: t.shape) }
        }
        if count == 0 { return self }
        let g = weight?.scalars ?? [], b = bias?.scalars ?? []
        // Every element is written by the row kernel.
        let out = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            initialized = count
            scalars.withUnsafeBufferPointer { x in
                residual.scalars.withUnsafeBufferPointer { r in
                    g.withUnsafeBufferPointer { gp in
                        b.withUnsafeBufferPointer { bp in
                            Kernels.addLayerNormRows(x.baseAddress!, r.baseAddress!, y.baseAddress!, rows: count / cols, cols: cols,
                                                     gamma: weight == nil ? nil : gp.baseAddress,
                                                     beta: bias == nil ? nil : bp.baseAddress, eps: eps)
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }
}
