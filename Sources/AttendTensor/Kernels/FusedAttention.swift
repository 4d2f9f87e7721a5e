import AttendKernelsC

extension Kernels {
    /// Where the heads of a `[batch, heads, seqLen, dim]`-like buffer live: element `(b, h, t, i)` is at
    /// `b·batch + h·head + t·row + i` (strides in floats). Contiguous `[B, H, T, d]` is `(H·T·d, T·d, d)`;
    /// the projections of a multi-head layer, `[B, T, H·d]`, are `(T·H·d, d, H·d)`.
    public struct HeadLayout: Sendable, Equatable {
        public var batch: Int
        public var head: Int
        public var row: Int
        public init(batch: Int, head: Int, row: Int) {
            (self.batch, self.head, self.row) = (batch, head, row)
        }
        /// Contiguous `[B, heads, length, dim]`.
        public static func contiguous(heads: Int, length: Int, dim: Int) -> HeadLayout {
            HeadLayout(batch: heads * length * dim, head: length * dim, row: dim)
        }
    }

    /// The sizes of one attention call. `kvHeads` must divide `heads` (grouped-query attention:
    /// query head `h` reads key/value head `h / (heads / kvHeads)`).
    public struct AttentionShape: Sendable, Equatable {
        public var batch, heads, kvHeads, queryLength, keyLength, keyDim, valueDim: Int
        public init(batch: Int, heads: Int, kvHeads: Int, queryLength: Int, keyLength: Int, keyDim: Int, valueDim: Int) {
            (self.batch, self.heads, self.kvHeads) = (batch, heads, kvHeads)
            (self.queryLength, self.keyLength, self.keyDim, self.valueDim) = (queryLength, keyLength, keyDim, valueDim)
        }
        /// Multiply-adds of the two products (`QKᵀ` and `PV`), halved for causal attention.
        public func multiplyAdds(causal: Bool) -> Double {
            Double(batch * heads) * Double(queryLength) * Double(keyLength) * Double(keyDim + valueDim) * (causal ? 0.5 : 1)
        }
    }

    /// A per-key mask (key padding): element `(b, j)` at `values[b·batchStride + j]`; `batchStride` 0
    /// shares one row across the batch. Boolean: 1 = may attend, 0 = masked; additive: added to the
    /// scaled scores (−∞ masks). Trailing masked keys cost nothing.
    public struct AttentionKeyMask {
        public var values: UnsafePointer<Float>
        public var batchStride: Int
        public var isBoolean: Bool
        public init(values: UnsafePointer<Float>, batchStride: Int, isBoolean: Bool) {
            (self.values, self.batchStride, self.isBoolean) = (values, batchStride, isBoolean)
        }
    }

    /// A general mask over `[B, H, Lq, Lk]`: element `(b, h, i, j)` at
    /// `values[b·batchStride + h·headStride + i·rowStride + j]`; a stride of 0 broadcasts that axis.
    public struct AttentionScoreMask {
        public var values: UnsafePointer<Float>
        public var batchStride, headStride, rowStride: Int
        public var isBoolean: Bool
        public init(values: UnsafePointer<Float>, batchStride: Int, headStride: Int, rowStride: Int, isBoolean: Bool) {
            (self.values, self.batchStride, self.headStride, self.rowStride) = (values, batchStride, headStride, rowStride)
            self.isBoolean = isBoolean
        }
    }

    /// One strided operand of an attention problem: element `(b, h, t, i)` at `base + b·batch + h·head + t·row + i`.
    public struct AttentionOperand {
        public var base: UnsafePointer<Float>
        public var layout: HeadLayout
        public init(_ base: UnsafePointer<Float>, _ layout: HeadLayout) { (self.base, self.layout) = (base, layout) }
    }

    /// One attention problem, described once: sizes (with the grouped-query ratio `heads / kvHeads`), the
    /// strided operands, the scale, causality with its key offset, the masks, and which extra outputs are
    /// wanted. It mirrors `attend_attention_problem` of `attend_attention.h` field for field, and is what
    /// the fused kernel, its plain twin ``ReferenceKernels/attention(_:)`` and the unfused twin take.
    public struct AttentionProblem {
        public var shape: AttentionShape
        public var query: AttentionOperand
        public var key: AttentionOperand
        public var value: AttentionOperand
        /// Written, element `(b, h, t, i)` at `output + b·batch + h·head + t·row + i`; must not overlap the inputs.
        public var output: UnsafeMutablePointer<Float>
        public var outputLayout: HeadLayout
        /// Multiplies `Q Kᵀ` (usually `1/√dk`).
        public var scale: Float
        /// Query `i` sees keys `0…causalKeyOffset + i` only.
        public var isCausal: Bool
        /// The absolute position of query 0 when causal (≥ 0): the number of keys before the first query,
        /// e.g. a key/value cache's length when decoding one new token at a time. 0 = top-left aligned.
        public var causalKeyOffset: Int
        public var keyMask: AttentionKeyMask?
        public var mask: AttentionScoreMask?
        /// Optional `[B, H, Lq, Lk]` contiguous output: the softmax weights (nil: not wanted, not computed).
        public var weights: UnsafeMutablePointer<Float>?
        /// Optional `[B, H, Lq]` output: the natural-log log-sum-exp of each row's masked scores.
        public var logSumExp: UnsafeMutablePointer<Float>?

        public init(shape: AttentionShape, query: AttentionOperand, key: AttentionOperand, value: AttentionOperand,
                    output: UnsafeMutablePointer<Float>, outputLayout: HeadLayout, scale: Float,
                    isCausal: Bool = false, causalKeyOffset: Int = 0,
                    keyMask: AttentionKeyMask? = nil, mask: AttentionScoreMask? = nil,
                    weights: UnsafeMutablePointer<Float>? = nil, logSumExp: UnsafeMutablePointer<Float>? = nil) {
            (self.shape, self.query, self.key, self.value) = (shape, query, key, value)
            (self.output, self.outputLayout, self.scale) = (output, outputLayout, scale)
            (self.isCausal, self.causalKeyOffset, self.keyMask, self.mask) = (isCausal, causalKeyOffset, keyMask, mask)
            (self.weights, self.logSumExp) = (weights, logSumExp)
        }

        /// Query heads per key/value head (grouped-query attention; 1 for plain multi-head attention).
        public var group: Int { shape.heads / Swift.max(shape.kvHeads, 1) }

        /// Checks sizes, strides and the key offset.
        /// - Throws: `TensorError.invalidArgument` naming what is wrong.
        public func validate() throws {
            let s = shape
            let sizes = [s.batch, s.heads, s.kvHeads, s.queryLength, s.keyLength, s.keyDim, s.valueDim]
            guard sizes.allSatisfy({ $0 >= 0 }), s.kvHeads > 0 || s.heads == 0, s.kvHeads == 0 || s.heads % s.kvHeads == 0 else {
                throw TensorError.invalidArgument(op: "attention", "bad sizes \(s) (kvHeads must divide heads)")
            }
            let rows = (query.layout.row, key.layout.row, value.layout.row, outputLayout.row)
            guard rows.0 >= s.keyDim, rows.1 >= s.keyDim, rows.2 >= s.valueDim, rows.3 >= s.valueDim else {
                throw TensorError.invalidArgument(op: "attention", "row strides \(rows.0), \(rows.1), \(rows.2), \(rows.3) shorter than the rows")
            }
            guard causalKeyOffset >= 0 else {
                throw TensorError.invalidArgument(op: "attention", "causal key offset \(causalKeyOffset) is negative")
            }
        }

        /// The C struct the driver reads.
        var c: attend_attention_problem {
            var p = attend_attention_problem()
            (p.b, p.h, p.hkv) = (shape.batch, shape.heads, shape.kvHeads)
            (p.lq, p.lk, p.dk, p.dv) = (shape.queryLength, shape.keyLength, shape.keyDim, shape.valueDim)
            (p.q, p.q_layout) = (query.base, query.layout.c)
            (p.k, p.k_layout) = (key.base, key.layout.c)
            (p.v, p.v_layout) = (value.base, value.layout.c)
            (p.o, p.o_layout) = (output, outputLayout.c)
            p.scale = scale
            (p.causal, p.causal_offset) = (isCausal ? 1 : 0, causalKeyOffset)
            if let keyMask {
                (p.key_mask, p.key_mask_batch, p.key_mask_boolean) = (keyMask.values, keyMask.batchStride, keyMask.isBoolean ? 1 : 0)
            }
            if let mask {
                (p.mask, p.mask_batch, p.mask_head, p.mask_row) = (mask.values, mask.batchStride, mask.headStride, mask.rowStride)
                p.mask_boolean = mask.isBoolean ? 1 : 0
            }
            (p.weights, p.lse) = (weights, logSumExp)
            return p
        }
    }

    /// Fused (flash-style) scaled dot-product attention over strided heads. Per batch `b` and query
    /// head `h` (key/value head `h / (heads / kvHeads)`), it computes exactly
    ///
    ///     S = scale · Q Kᵀ                          // [Lq, Lk]
    ///     S[i, j] += keyMask[b, j] + mask[b, h, i, j]   // additive masks; a boolean 0 sets −∞ instead
    ///     S[i, j] = −∞  for j > off + i             // when isCausal: query i sits at absolute position
    ///                                               // off + i (off = causalKeyOffset; 0 = top-left aligned)
    ///     P = softmax(S) row-wise                   // exp(S − rowmax) / Σ exp(S − rowmax)
    ///     O = P V                                   // [Lq, dv]
    ///
    /// without materialising `S`: keys are visited in blocks of 512 with an online softmax per row
    /// (running max `m` and sum `l`; each new block rescales the sums and the output accumulators by
    /// `2^(m_old − m_new)`), and each exponential is `2^x` by a degree-6 polynomial (0.7 ulp), with
    /// `scale·log2(e)` applied as each tile of scores is stored (Q is read and O written in place). Causal key
    /// blocks wholly above the (shifted) diagonal are skipped; trailing keys masked by `keyMask` are skipped.
    /// Short heads (`Lq`, `Lk` ≤ 16, a sentence of a dozen tokens) go whole through one pass where the ISA has it
    /// (AVX-512): the query rows across the vector lanes, the softmax down the keys with vertical max and sum.
    ///
    /// Everything accumulates in Float (dot products, the softmax sums, `PV`); the row maximum is
    /// subtracted before every exponential, so huge scores never overflow.
    ///
    /// A query row whose every key is masked (−∞) gets **zero output**, zero weights and `logSumExp` −∞,
    /// never NaN. Rows of `Lk = 0` attention are fully masked rows.
    ///
    /// - Parameters:
    ///   - problem: sizes, operands, scale, causality, masks and optional outputs (see ``AttentionProblem``).
    ///     `weights` are the exact softmax rows `P`, computed from the masked scores saved during the pass as
    ///     `2^(s − m) / l` with each row's final `m` and `l`.
    ///   - isa: the micro-kernels to use (default ``activeISA``); threads: the most threads (default ``maxThreads``).
    ///     Threads claim (batch, kv head, query-chunk) items; query rows are chunked when heads are few.
    /// - Throws: `TensorError.invalidArgument` for negative sizes, `kvHeads` not dividing `heads`,
    ///   a row stride smaller than its row, or a negative causal key offset.
    public static func attention(_ problem: AttentionProblem, isa: KernelISA? = nil, threads: Int? = nil) throws {
        try problem.validate()
        let s = problem.shape
        if s.batch == 0 || s.heads == 0 || s.queryLength == 0 { return }
        if useReference { return ReferenceKernels.attention(problem) }
        let settings = Kernels.settings
        let p = UnsafeMutablePointer<attend_attention_problem>.allocate(capacity: 1)
        let plan = UnsafeMutablePointer<attend_attention_plan>.allocate(capacity: 1)
        defer { p.deallocate(); plan.deallocate() }
        p.initialize(to: problem.c)
        let workers = attend_attention_plan_for(p, (isa ?? settings.activeISA).cValue, Swift.max(1, threads ?? settings.maxThreads), plan)
        if workers <= 0 { return }
        // One 64-byte-aligned region per worker; workers run on the kernels' thread pool (worker 0 here).
        let scratchBytes = Swift.max(plan.pointee.scratch_floats, 16) * MemoryLayout<Float>.stride * workers
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { scratch.deallocate() }
        attend_attention_run(p, plan, workers, scratch.assumingMemoryBound(to: Float.self))
    }

    /// ``attention(_:isa:threads:)`` with the problem spelled out argument by argument (kept for existing callers).
    public static func attention(
        shape s: AttentionShape,
        q: UnsafePointer<Float>, _ qL: HeadLayout,
        k: UnsafePointer<Float>, _ kL: HeadLayout,
        v: UnsafePointer<Float>, _ vL: HeadLayout,
        out: UnsafeMutablePointer<Float>, _ oL: HeadLayout,
        scale: Float, isCausal: Bool = false,
        keyMask: AttentionKeyMask? = nil, mask: AttentionScoreMask? = nil,
        weights: UnsafeMutablePointer<Float>? = nil, logSumExp: UnsafeMutablePointer<Float>? = nil,
        isa: KernelISA? = nil, threads: Int? = nil
    ) throws {
        try attention(AttentionProblem(shape: s, query: .init(q, qL), key: .init(k, kL), value: .init(v, vL),
                                       output: out, outputLayout: oL, scale: scale, isCausal: isCausal,
                                       keyMask: keyMask, mask: mask, weights: weights, logSumExp: logSumExp),
                      isa: isa, threads: threads)
    }
}

extension Kernels.HeadLayout {
    var c: attend_head_layout { attend_head_layout(batch: batch, head: head, row: row) }
}
