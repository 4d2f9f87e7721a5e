import Dispatch
import Foundation

/// Fast row kernels (softmax, layer norm, GELU): Float accumulation in vectorisable loops,
/// rows split across cores when the work is large enough to pay for it.
extension Kernels {
    /// Rows of work below which we stay on one thread.
    static let parallelThreshold = 1 << 16

    static func forEachRowBlock(rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
        let threads = ProcessInfo.processInfo.activeProcessorCount
        if rows * cols < parallelThreshold || threads < 2 || rows < 2 {
            body(0..<rows)
            return
        }
        let chunks = Swift.min(threads, rows)
        let per = (rows + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per, hi = Swift.min(rows, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// In-place softmax of each row; a row of all −∞ becomes zeros (never NaN).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        if useReference { return ReferenceKernels.softmaxRows(x, rows: rows, cols: cols) }
        forEachRowBlock(rows: rows, cols: cols) { range in
            for r in range {
                let row = x + r * cols
                var m = -Float.infinity
                for j in 0..<cols { m = Swift.max(m, row[j]) }
                if m == -.infinity {
                    for j in 0..<cols { row[j] = 0 }
                    continue
                }
                var s: Float = 0
                for j in 0..<cols { let e = Foundation.exp(row[j] - m); row[j] = e; s += e }
                let inv = 1 / s
                for j in 0..<cols { row[j] *= inv }
            }
        }
    }

    /// Layer norm of each row over its `cols` features; see ``ReferenceKernels/layerNormRows``.
    public static func layerNormRows(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float
    ) {
        if useReference {
            return ReferenceKernels.layerNormRows(x, y, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
        }
        forEachRowBlock(rows: rows, cols: cols) { range in
            for r in range {
                let xr = x + r * cols, yr = y + r * cols
                var s: Float = 0
                for j in 0..<cols { s += xr[j] }
                let mean = s / Float(cols)
                var v: Float = 0
                for j in 0..<cols { let d = xr[j] - mean; v += d * d }
                let inv = 1 / (v / Float(cols) + eps).squareRoot()
                for j in 0..<cols {
                    var o = (xr[j] - mean) * inv
                    if let g = gamma { o *= g[j] }
                    if let b = beta { o += b[j] }
                    yr[j] = o
                }
            }
        }
    }

    /// In-place GELU (exact erf form, or the tanh approximation).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, approximate: Bool) {
        if useReference { return ReferenceKernels.gelu(x, count: count, approximate: approximate) }
        let c = (2 / Float.pi).squareRoot()
        forEachRowBlock(rows: (count + 1023) / 1024, cols: 1024) { range in
            let lo = range.lowerBound * 1024, hi = Swift.min(count, range.upperBound * 1024)
            if approximate {
                for i in lo..<hi { let v = x[i]; x[i] = 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v))) }
            } else {
                for i in lo..<hi { let v = x[i]; x[i] = 0.5 * v * (1 + fastErf(v * 0.70710678118654752)) }
            }
        }
    }
}
