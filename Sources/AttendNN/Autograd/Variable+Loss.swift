import Foundation

/// Embedding lookup and cross-entropy, with their backward passes.
extension Variable {
    /// Rows of `table` (`[count, dim]`) picked by `ids` (`[B][T]`) → `[B, T, dim]`.
    /// Backward: scatter-add — each output row's gradient is added to the table row it came from
    /// (an id used twice receives both gradients).
    public static func embedding(_ table: Variable, ids: [[Int]]) throws -> Variable {
        guard table.rank == 2 else { throw TensorError.shapeMismatch(op: "embedding", expected: "[count, dim]", actual: table.shape) }
        let (count, dim) = (table.shape[0], table.shape[1])
        let t = ids.first?.count ?? 0
        var flat = [Int]()
        flat.reserveCapacity(ids.count * t)
        for (b, row) in ids.enumerated() {
            guard row.count == t else { throw TensorError.ragged("id row \(b) has \(row.count) ids, row 0 has \(t)") }
            for id in row {
                guard id >= 0 && id < count else {
                    throw TensorError.invalidArgument(op: "embedding", "id \(id) outside the table of \(count) rows")
                }
                flat.append(id)
            }
        }
        var out = [Float](repeating: 0, count: flat.count * dim)
        if !out.isEmpty { table.value.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, id) in flat.enumerated() {
                    (dst.baseAddress! + r * dim).update(from: src.baseAddress! + id * dim, count: dim)
                }
            }
        } }
        let value = try Tensor(shape: [ids.count, t, dim], scalars: out)
        guard let tape = table.tape else { return Variable(value) }
        let it = table.id
        return tape.record(value) { g, tape in
            tape.accumulate(it) { dt in
                for (r, id) in flat.enumerated() {
                    for j in 0..<dim { dt[id * dim + j] += g[r * dim + j] }
                }
            }
        }
    }

    /// Mean cross-entropy of `logits` (`[..., V]`, one row per target) against class `targets`, skipping rows
    /// whose target is `ignoreIndex` (PyTorch's `F.cross_entropy(..., ignore_index=)`, mean over the rest):
    ///
    ///     loss = (1/N) Σ_{rows r with t_r ≠ ignore} (logsumexp(z_r) − z_r[t_r])
    ///
    /// Backward: `dz_r = (softmax(z_r) − onehot(t_r)) · g / N` for counted rows, 0 for ignored rows.
    /// With no counted rows the loss is 0 and so is the gradient.
    public static func crossEntropy(_ logits: Variable, targets: [Int], ignoreIndex: Int = -100) throws -> Variable {
        guard let v = logits.shape.last, v > 0 else {
            throw TensorError.invalidArgument(op: "crossEntropy", "logits need a non-empty class axis, got \(logits.shape)")
        }
        let rows = logits.value.count / v
        guard targets.count == rows else {
            throw TensorError.invalidArgument(op: "crossEntropy", "\(targets.count) targets for \(rows) rows of logits \(logits.shape)")
        }
        for t in targets where t != ignoreIndex && (t < 0 || t >= v) {
            throw TensorError.invalidArgument(op: "crossEntropy", "target \(t) outside 0..<\(v)")
        }
        let z = logits.value.scalars
        let counted = targets.filter { $0 != ignoreIndex }.count
        var probs = [Float](repeating: 0, count: logits.tape == nil ? 0 : z.count)
        var total = 0.0
        for r in 0..<rows where targets[r] != ignoreIndex {
            let o = r * v
            var m = -Float.infinity
            for j in 0..<v { m = Swift.max(m, z[o + j]) }
            var s = 0.0
            for j in 0..<v { s += Foundation.exp(Double(z[o + j] - m)) }
            let lse = Double(m) + Foundation.log(s)
            total += lse - Double(z[o + targets[r]])
            if !probs.isEmpty {
                for j in 0..<v { probs[o + j] = Float(Foundation.exp(Double(z[o + j]) - lse)) }
            }
        }
        let loss = Tensor(scalar: counted == 0 ? 0 : Float(total / Double(counted)))
        guard let tape = logits.tape else { return Variable(loss) }
        let il = logits.id
        return tape.record(loss) { g, tape in
            guard counted > 0 else { return }
            let scale = g[0] / Float(counted)
            var dz = probs
            for r in 0..<rows {
                let o = r * v
                if targets[r] == ignoreIndex {
                    for j in 0..<v { dz[o + j] = 0 }
                    continue
                }
                dz[o + targets[r]] -= 1
                for j in 0..<v { dz[o + j] *= scale }
            }
            tape.accumulate(il, dz)
        }
    }
}

extension Tensor {
    /// How many rows of `self` (`[..., V]`) have their argmax at the target, and how many rows were counted
    /// (targets equal to `ignoreIndex` are skipped).
    public func argmaxHits(targets: [Int], ignoreIndex: Int = -100) -> (hits: Int, counted: Int) {
        guard let v = shape.last, v > 0, targets.count == count / v else { return (0, 0) }
        var hits = 0, counted = 0
        for (r, t) in targets.enumerated() where t != ignoreIndex {
            counted += 1
            var best = 0
            for j in 1..<v where scalars[r * v + j] > scalars[r * v + best] { best = j }
            if best == t { hits += 1 }
        }
        return (hits, counted)
    }
}
