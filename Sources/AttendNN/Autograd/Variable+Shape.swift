/// Shape ops: reshape, permute, transpose, split and merge heads, each with its backward (the inverse move).
extension Variable {
    /// The same values under a new shape (one dimension may be −1). Backward: the gradient reshaped back.
    public func reshaped(_ newShape: [Int]) throws -> Variable {
        let out = try value.reshaped(newShape)
        guard let tape else { return Variable(out) }
        let ix = id
        return tape.record(out) { g, tape in tape.accumulate(ix, g) }  // same row-major order
    }

    /// Axes reordered (`torch.permute`). Backward: the gradient permuted by the inverse permutation.
    public func permuted(_ axes: [Int]) throws -> Variable {
        let out = try value.permuted(axes)
        guard let tape else { return Variable(out) }
        let ix = id
        let normalized = try axes.map { try value.axisIndex($0, op: "permute") }
        var inverse = [Int](repeating: 0, count: normalized.count)
        for (i, a) in normalized.enumerated() { inverse[a] = i }
        let outShape = out.shape
        return tape.record(out) { g, tape in
            tape.accumulate(ix, try Tensor(shape: outShape, scalars: g).permuted(inverse).scalars)
        }
    }

    /// Two axes swapped (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Variable {
        var axes = Array(0..<rank)
        axes.swapAt(try value.axisIndex(a, op: "transpose"), try value.axisIndex(b, op: "transpose"))
        return try permuted(axes)
    }

    /// `[B, T, H·d] → [B, H, T, d]`.
    public func splitHeads(_ heads: Int) throws -> Variable {
        guard rank == 3 else { throw TensorError.shapeMismatch(op: "splitHeads", expected: "[batch, seq, heads·headDim]", actual: shape) }
        guard heads > 0, shape[2] % heads == 0 else {
            throw TensorError.invalidArgument(op: "splitHeads", "feature size \(shape[2]) is not divisible by \(heads) heads")
        }
        return try reshaped([shape[0], shape[1], heads, shape[2] / heads])  // [B, T, H, d]
            .permuted([0, 2, 1, 3])                                          // [B, H, T, d]
    }

    /// `[B, H, T, d] → [B, T, H·d]`.
    public func mergeHeads() throws -> Variable {
        guard rank == 4 else { throw TensorError.shapeMismatch(op: "mergeHeads", expected: "[batch, heads, seq, headDim]", actual: shape) }
        let s = shape
        return try permuted([0, 2, 1, 3])                                   // [B, T, H, d]
            .reshaped([s[0], s[2], s[1] * s[3]])                             // [B, T, H·d]
    }
}
