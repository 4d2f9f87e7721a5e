/// Shape ops: reshape, permute/transpose, slice, concatenate, split and merge heads.
extension Tensor {
    /// The same values under a new shape; one dimension may be `-1` (inferred).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var shape = newShape
        let inferred = shape.indices.filter { shape[$0] == -1 }
        guard inferred.count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw TensorError.invalidShape("reshape", newShape)
        }
        if let i = inferred.first {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else {
                throw TensorError.incompatibleShapes(op: "reshape", self.shape, newShape)
            }
            shape[i] = count / known
        }
        guard shape.reduce(1, *) == count else {
            throw TensorError.incompatibleShapes(op: "reshape", self.shape, newShape)
        }
        return Tensor(uncheckedShape: shape, scalars: scalars)
    }

    /// Axes reordered: result axis `i` is input axis `axes[i]` (like `torch.permute`).
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let axes = try axes.map { try axisIndex($0, op: "permute") }
        guard axes.count == rank, Set(axes).count == rank else {
            throw TensorError.invalidArgument(op: "permute", "axes \(axes) are not a permutation of 0..<\(rank)")
        }
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let inStrides = strides
        let srcStrides = axes.map { inStrides[$0] }   // stride in the input for each output axis
        let out = Tensor.gather(scalars, shape: newShape, strides: srcStrides)
        return Tensor(uncheckedShape: newShape, scalars: out)
    }

    /// Two axes swapped (like `torch.transpose(a, b)`); defaults to the last two.
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        var axes = Array(0..<rank)
        let ia = try axisIndex(a, op: "transpose"), ib = try axisIndex(b, op: "transpose")
        axes.swapAt(ia, ib)
        return try permuted(axes)
    }

    /// The sub-tensor with `axis` restricted to `range`.
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let ax = try axisIndex(axis, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw TensorError.invalidArgument(op: "slice", "range \(range) outside 0..<\(shape[ax]) on axis \(ax) of \(shape)")
        }
        let outer = shape[..<ax].reduce(1, *)
        let inner = shape[(ax + 1)...].reduce(1, *)
        var newShape = shape
        newShape[ax] = range.count
        var out = [Float]()
        out.reserveCapacity(outer * range.count * inner)
        for o in 0..<outer {
            let start = (o * shape[ax] + range.lowerBound) * inner
            out.append(contentsOf: scalars[start..<(start + range.count * inner)])
        }
        return Tensor(uncheckedShape: newShape, scalars: out)
    }

    /// Index `i` of `axis`, with that axis removed.
    public func select(axis: Int, _ i: Int) throws -> Tensor {
        let ax = try axisIndex(axis, op: "select")
        var s = try slice(axis: ax, i..<(i + 1))
        s.shape.remove(at: ax)
        return s
    }

    /// Tensors joined along `axis`; all other dimensions must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concatenate", "no tensors") }
        let ax = try first.axisIndex(axis, op: "concatenate")
        for t in tensors {
            guard t.rank == first.rank,
                  t.shape.enumerated().allSatisfy({ $0.offset == ax || $0.element == first.shape[$0.offset] })
            else { throw TensorError.incompatibleShapes(op: "concatenate", first.shape, t.shape) }
        }
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        var newShape = first.shape
        newShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        var out = [Float]()
        out.reserveCapacity(newShape.reduce(1, *))
        for o in 0..<outer {
            for t in tensors {
                let n = t.shape[ax] * inner
                out.append(contentsOf: t.scalars[(o * n)..<((o + 1) * n)])
            }
        }
        return Tensor(uncheckedShape: newShape, scalars: out)
    }

    /// Tensors stacked along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "stack", "no tensors") }
        let ax = axis < 0 ? axis + first.rank + 1 : axis
        guard ax >= 0 && ax <= first.rank else {
            throw TensorError.axisOutOfRange(op: "stack", axis: axis, rank: first.rank + 1)
        }
        var expanded: [Tensor] = []
        for t in tensors {
            guard t.shape == first.shape else { throw TensorError.incompatibleShapes(op: "stack", first.shape, t.shape) }
            var s = t.shape
            s.insert(1, at: ax)
            expanded.append(Tensor(uncheckedShape: s, scalars: t.scalars))
        }
        return try concatenate(expanded, axis: ax)
    }

    /// `[B, T, H·d] → [B, H, T, d]`: the last axis split into `heads` heads, heads moved before time.
    public func splitHeads(_ heads: Int) throws -> Tensor {
        guard rank == 3 else { throw TensorError.shapeMismatch(op: "splitHeads", expected: "[batch, seq, heads·headDim]", actual: shape) }
        guard heads > 0, shape[2] % heads == 0 else {
            throw TensorError.invalidArgument(op: "splitHeads", "feature size \(shape[2]) is not divisible by \(heads) heads")
        }
        return try reshaped([shape[0], shape[1], heads, shape[2] / heads])  // [B, T, H, d]
            .permuted([0, 2, 1, 3])                                          // [B, H, T, d]
    }

    /// `[B, H, T, d] → [B, T, H·d]`: heads concatenated along the feature axis.
    public func mergeHeads() throws -> Tensor {
        guard rank == 4 else { throw TensorError.shapeMismatch(op: "mergeHeads", expected: "[batch, heads, seq, headDim]", actual: shape) }
        return try permuted([0, 2, 1, 3])                                   // [B, T, H, d]
            .reshaped([shape[0], shape[2], shape[1] * shape[3]])             // [B, T, H·d]
    }

    /// A new axis of size 1 at `axis`.
    public func unsqueezed(_ axis: Int) throws -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        guard ax >= 0 && ax <= rank else { throw TensorError.axisOutOfRange(op: "unsqueeze", axis: axis, rank: rank + 1) }
        var s = shape
        s.insert(1, at: ax)
        return Tensor(uncheckedShape: s, scalars: scalars)
    }

    /// Repeats each slice along `axis` `times` times in place (like `torch.repeat_interleave`).
    public func repeatInterleave(_ times: Int, axis: Int) throws -> Tensor {
        let ax = try axisIndex(axis, op: "repeatInterleave")
        guard times >= 1 else { throw TensorError.invalidArgument(op: "repeatInterleave", "times must be ≥ 1, got \(times)") }
        if times == 1 { return self }
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var out = [Float]()
        out.reserveCapacity(count * times)
        for o in 0..<outer {
            for i in 0..<n {
                let start = (o * n + i) * inner
                for _ in 0..<times { out.append(contentsOf: scalars[start..<(start + inner)]) }
            }
        }
        var s = shape
        s[ax] *= times
        return Tensor(uncheckedShape: s, scalars: out)
    }
}
