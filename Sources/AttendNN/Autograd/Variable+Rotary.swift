import Foundation

/// Rotary position embedding (RoPE) with its backward pass.
extension Variable {
    /// ``PositionalEncoding/rotary(_:offset:base:interleaved:)`` on `[B, H, T, d]`: position `offset + t` rotates
    /// each feature pair `(a, b)` by `θ = (offset + t)·base^(−2i/d)`:
    ///
    ///     a' = a·cos θ − b·sin θ        b' = b·cos θ + a·sin θ
    ///
    /// Backward is the rotation by −θ (a rotation's inverse is its transpose):
    ///
    ///     da = da'·cos θ + db'·sin θ    db = db'·cos θ − da'·sin θ
    public func rotary(offset: Int = 0, base: Double = 10000, interleaved: Bool = false) throws -> Variable {
        let out = try PositionalEncoding.rotary(value, offset: offset, base: base, interleaved: interleaved)
        guard let tape else { return Variable(out) }
        let (t, d) = (shape[2], shape[3])
        let half = d / 2
        var cosT = [Float](repeating: 0, count: t * half), sinT = cosT
        for p in 0..<t {
            for i in 0..<half {
                let angle = Double(offset + p) * Foundation.pow(base, -2 * Double(i) / Double(d))
                cosT[p * half + i] = Float(Foundation.cos(angle))
                sinT[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        let ix = id
        return tape.record(out) { g, tape in
            var dx = [Float](repeating: 0, count: g.count)
            for r in 0..<(g.count / Swift.max(d, 1)) {
                let p = r % t, rowBase = r * d
                for i in 0..<half {
                    let (a, b) = interleaved ? (rowBase + 2 * i, rowBase + 2 * i + 1) : (rowBase + i, rowBase + i + half)
                    let (c, s) = (cosT[p * half + i], sinT[p * half + i])
                    dx[a] = g[a] * c + g[b] * s
                    dx[b] = g[b] * c - g[a] * s
                }
            }
            tape.accumulate(ix, dx)
        }
    }
}
