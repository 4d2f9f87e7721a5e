// The attention problem format of `attend attention` (and the server's attention route): q, k, v and an optional
// mask, scale and head count as JSON, validated into one value that runs the reference attention step by step.
//
//     {"q": [[…], …], "k": [[…], …], "v": [[…], …],
//      "mask": "causal" | [[true, false, …], …] | [[0, -1e9, …], …],   (optional)
//      "scale": 0.125,                                                 (optional, default 1/√d_k)
//      "heads": 2}                                                     (optional, splits the last axis)
import AttendNN
import AttendTensor
import Foundation

/// A problem in an attention input: one line naming the source, the key and what is wrong.
public struct AttentionProblemError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The validated contents of an attention problem (an `attend attention` input file).
public struct AttentionProblem: Sendable {
    public enum Mask: Sendable, Equatable {
        case causal
        case boolean([[Bool]])    // [Lq][Lk], true = may attend
        case additive([[Float]])  // [Lq][Lk], added to the scaled scores
    }

    public var q: [[Float]]   // [Lq][D]
    public var k: [[Float]]   // [Lk][D]
    public var v: [[Float]]   // [Lk][Dv]
    public var mask: Mask?
    public var scale: Float?
    public var heads: Int
    /// `q` was a single vector rather than a matrix: results drop the query axis.
    public var queryIsVector: Bool

    public var lq: Int { q.count }
    public var lk: Int { k.count }
    public var dModel: Int { q.first?.count ?? 0 }
    public var dValue: Int { v.first?.count ?? 0 }
    public var headDim: Int { dModel / max(heads, 1) }

    public static let keys = ["q", "k", "v", "mask", "scale", "heads"]

    /// The most attention scores (queries × keys × heads) one input may ask for: each is computed, kept and printed
    /// several times over, so a larger input would need gigabytes for a report nobody can read.
    public static let maxScores = 1 << 20

    /// Reads and validates a file; every problem is one line naming the file, the key and what is wrong.
    public static func load(path: String) throws -> AttentionProblem {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw AttentionProblemError("\(path): no such file")
        }
        guard !isDir.boolValue else { throw AttentionProblemError("\(path): is a directory, expected a JSON file") }
        guard let data = try? Data(contentsOf: url) else { throw AttentionProblemError("\(path): cannot be read") }
        return try parse(data, source: path)
    }

    /// Parses and validates JSON text; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> AttentionProblem {
        let json: JSONValue
        do {
            json = try JSONValue.parse(data, source: source)
        } catch let e as JSONSyntaxError {
            throw AttentionProblemError(e.description)
        }
        return try parse(json, source: source)
    }

    /// Validates a parsed JSON value; `source` names it in errors.
    public static func parse(_ json: JSONValue, source: String) throws -> AttentionProblem {
        guard case .object(let obj) = json else {
            throw AttentionProblemError("\(source): expected a JSON object with keys \"q\", \"k\", \"v\", got \(json.kind)")
        }
        if let unknown = obj.keys.sorted().first(where: { !keys.contains($0) }) {
            throw AttentionProblemError("\(source): unknown key \"\(unknown)\" (allowed: \(keys.joined(separator: ", ")))")
        }
        func required(_ key: String) throws -> JSONValue {
            guard let v = obj[key] else { throw AttentionProblemError("\(source): missing key \"\(key)\"") }
            return v
        }
        let (q, qVector) = try matrix(required("q"), name: "q", source: source)
        let (k, _) = try matrix(required("k"), name: "k", source: source)
        let (v, _) = try matrix(required("v"), name: "v", source: source)
        guard k[0].count == q[0].count else {
            throw AttentionProblemError("\(source): \"k\" rows have \(k[0].count) values but \"q\" rows have \(q[0].count): queries and keys need the same width d_k")
        }
        guard v.count == k.count else {
            throw AttentionProblemError("\(source): \"v\" has \(v.count) rows but \"k\" has \(k.count): one value row per key")
        }
        var heads = 1
        if let h = obj["heads"] {
            guard let d = h.doubleValue, d == d.rounded(), d >= 1, d <= 1_000_000 else {
                throw AttentionProblemError("\(source): \"heads\" must be a positive integer, got \(describe(h))")
            }
            heads = Int(d)
            guard q[0].count % heads == 0 else {
                throw AttentionProblemError("\(source): \"heads\" = \(heads) does not divide the width of \"q\" and \"k\" (\(q[0].count))")
            }
            guard v[0].count % heads == 0 else {
                throw AttentionProblemError("\(source): \"heads\" = \(heads) does not divide the width of \"v\" (\(v[0].count))")
            }
        }
        // Every score is kept (and printed by --json) three times per head: bound what one input may ask for.
        let (scores, overflow) = q.count.multipliedReportingOverflow(by: k.count * heads)
        guard !overflow, scores <= maxScores else {
            throw AttentionProblemError("\(source): \(q.count) queries × \(k.count) keys × \(heads) heads = \(overflow ? "too many" : String(scores)) attention scores, more than the \(maxScores) one input may ask for (attend attention explains small problems)")
        }
        var scale: Float? = nil
        if let s = obj["scale"] {
            guard let d = s.doubleValue, d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                throw AttentionProblemError("\(source): \"scale\" must be a finite number, got \(describe(s))")
            }
            scale = Float(d)
        }
        var mask: Mask? = nil
        if let m = obj["mask"] {
            mask = try parseMask(m, lq: q.count, lk: k.count, queryIsVector: qVector, source: source)
        }
        return AttentionProblem(q: q, k: k, v: v, mask: mask, scale: scale, heads: heads, queryIsVector: qVector)
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .int, .double, .float: return "\(v.doubleValue ?? 0)"
        case .string(let s): return "\"\(s)\""
        default: return v.kind
        }
    }

    /// A non-empty rectangular matrix of finite Float32 numbers (a flat vector is one row).
    static func matrix(_ value: JSONValue, name: String, source: String) throws -> ([[Float]], Bool) {
        guard case .array(let rows) = value else {
            throw AttentionProblemError("\(source): \"\(name)\" must be an array of rows of numbers, got \(value.kind)")
        }
        guard !rows.isEmpty else { throw AttentionProblemError("\(source): \"\(name)\" is empty") }
        if rows.allSatisfy({ $0.doubleValue != nil }) {
            return ([try numbers(rows, path: name, source: source)], true)
        }
        var out: [[Float]] = []
        for (i, row) in rows.enumerated() {
            guard case .array(let items) = row else {
                throw AttentionProblemError("\(source): \(name)[\(i)] is \(row.kind), expected a row (array of numbers)")
            }
            let r = try numbers(items, path: "\(name)[\(i)]", source: source)
            if let first = out.first, first.count != r.count {
                throw AttentionProblemError("\(source): ragged \"\(name)\": row \(i) has \(r.count) values, row 0 has \(first.count)")
            }
            guard !r.isEmpty else { throw AttentionProblemError("\(source): \(name)[\(i)] is empty") }
            out.append(r)
        }
        return (out, false)
    }

    static func numbers(_ items: [JSONValue], path: String, source: String) throws -> [Float] {
        try items.enumerated().map { j, item in
            guard let d = item.doubleValue else {
                throw AttentionProblemError("\(source): \(path)[\(j)] is \(item.kind), expected a number")
            }
            guard abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                throw AttentionProblemError("\(source): \(path)[\(j)] = \(d) is outside the Float32 range")
            }
            return Float(d)
        }
    }

    static func parseMask(_ m: JSONValue, lq: Int, lk: Int, queryIsVector: Bool, source: String) throws -> Mask {
        if case .string(let s) = m {
            guard s == "causal" else { throw AttentionProblemError("\(source): \"mask\" string must be \"causal\", got \"\(s)\"") }
            return .causal
        }
        guard case .array(var rows) = m, !rows.isEmpty else {
            throw AttentionProblemError("\(source): \"mask\" must be \"causal\" or a \(lq)×\(lk) array of booleans or numbers, got \(m.kind)")
        }
        // A single query may give its mask as one flat row.
        if queryIsVector, rows.allSatisfy({ if case .array = $0 { return false } else { return true } }) {
            rows = [.array(rows)]
        }
        guard rows.count == lq else {
            throw AttentionProblemError("\(source): \"mask\" has \(rows.count) rows, expected \(lq) (one per query) × \(lk) (one per key)")
        }
        var bools: [[Bool]] = [], nums: [[Float]] = []
        var sawBool = false, sawNumber = false
        for (i, row) in rows.enumerated() {
            guard case .array(let items) = row else {
                throw AttentionProblemError("\(source): mask[\(i)] is \(row.kind), expected a row of \(lk) booleans or numbers")
            }
            guard items.count == lk else {
                throw AttentionProblemError("\(source): mask[\(i)] has \(items.count) entries, expected \(lk) (one per key)")
            }
            var br: [Bool] = [], nr: [Float] = []
            for (j, item) in items.enumerated() {
                switch item {
                case .bool(let b): sawBool = true; br.append(b); nr.append(0)
                case .int, .double, .float:
                    let d = item.doubleValue ?? 0
                    guard abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                        throw AttentionProblemError("\(source): mask[\(i)][\(j)] = \(d) is outside the Float32 range")
                    }
                    sawNumber = true; nr.append(Float(d)); br.append(true)
                default:
                    throw AttentionProblemError("\(source): mask[\(i)][\(j)] is \(item.kind), expected a boolean or a number")
                }
            }
            bools.append(br); nums.append(nr)
        }
        if sawBool && sawNumber {
            throw AttentionProblemError("\(source): \"mask\" mixes booleans and numbers; use booleans (true = may attend) or numbers (added to the scaled scores)")
        }
        return sawBool ? .boolean(bools) : .additive(nums)
    }

    /// Runs the reference attention (Double accumulation) and returns every intermediate.
    /// Shapes: `[1, heads, Lq, Lk]` for scores and weights, `[1, heads, Lq, d_v/heads]` for the output.
    public func run() throws -> AttentionTrace {
        let h = heads
        let qT = try Tensor(rows: q).reshaped([1, lq, dModel]).splitHeads(h)     // [1, H, Lq, d]
        let kT = try Tensor(rows: k).reshaped([1, lk, dModel]).splitHeads(h)     // [1, H, Lk, d]
        let vT = try Tensor(rows: v).reshaped([1, lk, dValue]).splitHeads(h)     // [1, H, Lk, dv]
        var maskT: AttentionMask? = nil
        var causal = false
        switch mask {
        case .causal: causal = true
        case .boolean(let b): maskT = .boolean(try Tensor(rows: b.map { $0.map { $0 ? 1 : 0 } }))
        case .additive(let a): maskT = .additive(try Tensor(rows: a))
        case nil: break
        }
        return try referenceAttention(query: qT, key: kT, value: vT, mask: maskT, isCausal: causal, scale: scale)
    }
}
