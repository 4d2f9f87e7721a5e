/// A `[batch, heads, length, dim]` view of a row-major tensor's values, made without copying them:
/// element `(b, h, t, i)` is `base.scalars[offset + b·layout.batch + h·layout.head + t·layout.row + i]`.
///
/// It is how a multi-head layer hands its projections to attention: `[B, T, H·d]` viewed as `[B, H, T, d]`
/// (nanoGPT's `view(B, T, nh, hs).transpose(1, 2)`), read in place by the fused kernel. ``Tensor`` stays
/// row-major everywhere else; a view becomes a tensor through ``contiguous()`` (a copy, `[B, H, T, d]`) or
/// ``mergedHeads()`` (`[B, T, H·d]`, free when the view already lies that way).
public struct HeadView: Sendable {
    /// The tensor whose values the view reads (shared, not copied).
    public let base: Tensor
    /// Index of element `(0, 0, 0, 0)` in `base.scalars`.
    public let offset: Int
    public let batch: Int
    public let heads: Int
    public let length: Int
    public let dim: Int
    /// Strides of the batch, head and time axes, in floats (the feature axis has stride 1).
    public let layout: Kernels.HeadLayout

    /// `[batch, heads, length, dim]`
    public var shape: [Int] { [batch, heads, length, dim] }

    /// A contiguous `[B, H, T, d]` tensor viewed as itself.
    /// - Throws: `TensorError.shapeMismatch` unless `tensor` has rank 4.
    public init(_ tensor: Tensor) throws {
        guard tensor.rank == 4 else {
            throw TensorError.shapeMismatch(op: "HeadView", expected: "[batch, heads, seqLen, headDim]", actual: tensor.shape)
        }
        let s = tensor.shape
        self.init(uncheckedBase: tensor, offset: 0, batch: s[0], heads: s[1], length: s[2], dim: s[3],
                  layout: .contiguous(heads: s[1], length: s[2], dim: s[3]))
    }

    /// Any strided view: element `(b, h, t, i)` at `base.scalars[offset + b·layout.batch + h·layout.head + t·layout.row + i]`.
    /// - Throws: `TensorError.invalidArgument` for negative sizes or strides, a row stride shorter than `dim`,
    ///   or an element outside `base`.
    public init(base: Tensor, offset: Int, batch: Int, heads: Int, length: Int, dim: Int, layout: Kernels.HeadLayout) throws {
        let sizes = [offset, batch, heads, length, dim, layout.batch, layout.head, layout.row]
        guard sizes.allSatisfy({ $0 >= 0 }), layout.row >= dim || length <= 1 else {
            throw TensorError.invalidArgument(op: "HeadView", "bad sizes or strides [\(batch), \(heads), \(length), \(dim)] \(layout)")
        }
        if batch > 0 && heads > 0 && length > 0 && dim > 0 {
            let last = offset + (batch - 1) * layout.batch + (heads - 1) * layout.head + (length - 1) * layout.row + dim - 1
            guard last < base.count else {
                throw TensorError.invalidArgument(op: "HeadView", "element \(last) is outside the \(base.count) values of \(base.shape)")
            }
        }
        self.init(uncheckedBase: base, offset: offset, batch: batch, heads: heads, length: length, dim: dim, layout: layout)
    }

    init(uncheckedBase base: Tensor, offset: Int, batch: Int, heads: Int, length: Int, dim: Int, layout: Kernels.HeadLayout) {
        (self.base, self.offset, self.layout) = (base, offset, layout)
        (self.batch, self.heads, self.length, self.dim) = (batch, heads, length, dim)
    }

    /// Whether the view is all of a `[B, T, H·d]` base, heads side by side in each row: merging is free.
    var isMergedLayout: Bool {
        offset == 0 && base.shape == [batch, length, heads * dim]
            && layout == Kernels.HeadLayout(batch: length * heads * dim, head: dim, row: heads * dim)
    }

    /// `[B, T, H·d]`: the heads concatenated along the feature axis (the base itself when it already is that).
    public func mergedHeads() -> Tensor {
        if isMergedLayout { return base }
        return gathered(shape: [batch, length, heads * dim]) { b, h, t in (b * length + t) * heads * dim + h * dim }
    }

    /// `[B, H, T, d]` as a contiguous tensor (a copy unless the view is already that).
    public func contiguous() -> Tensor {
        if offset == 0 && base.shape == shape && layout == .contiguous(heads: heads, length: length, dim: dim) { return base }
        return gathered(shape: shape) { b, h, t in ((b * heads + h) * length + t) * dim }
    }

    /// The view's rows copied into a new tensor of `shape`, row `(b, h, t)` starting at `destination(b, h, t)`.
    private func gathered(shape: [Int], destination: (Int, Int, Int) -> Int) -> Tensor {
        var out = [Float](repeating: 0, count: batch * heads * length * dim)
        let src = base.scalars
        for b in 0..<batch {
            for h in 0..<heads {
                for t in 0..<length {
                    let from = offset + b * layout.batch + h * layout.head + t * layout.row, to = destination(b, h, t)
                    for i in 0..<dim { out[to + i] = src[from + i] }
                }
            }
        }
        return Tensor(uncheckedShape: shape, scalars: out)
    }
}

extension Tensor {
    /// `[B, T, C]` viewed as `[B, heads, T, dim]` without copying: head `h` is columns
    /// `column + h·dim ..< column + (h + 1)·dim` of every row (`dim` defaults to `C / heads`). With one
    /// fused Q/K/V projection `[B, T, (H + 2·Hkv)·d]`, the queries are `viewAsHeads(H, dim: d)`, the keys
    /// `viewAsHeads(Hkv, dim: d, column: H·d)`.
    /// - Throws: `TensorError` when the tensor is not rank 3 or the heads do not fit in its rows.
    public func viewAsHeads(_ heads: Int, dim: Int? = nil, column: Int = 0) throws -> HeadView {
        guard rank == 3 else {
            throw TensorError.shapeMismatch(op: "viewAsHeads", expected: "[batch, seq, heads·headDim]", actual: shape)
        }
        let width = shape[2]
        guard heads > 0, dim != nil || width % heads == 0 else {
            throw TensorError.invalidArgument(op: "viewAsHeads", "feature size \(width) is not divisible by \(heads) heads")
        }
        let d = dim ?? width / heads
        guard d >= 0, column >= 0, column + heads * d <= width else {
            throw TensorError.invalidArgument(op: "viewAsHeads", "\(heads) heads of \(d) from column \(column) do not fit in rows of \(width)")
        }
        return HeadView(uncheckedBase: self, offset: column, batch: shape[0], heads: heads, length: shape[1], dim: d,
                        layout: Kernels.HeadLayout(batch: shape[1] * width, head: d, row: width))
    }
}
