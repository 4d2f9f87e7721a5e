import AttendTensor
import Foundation
import Testing

/// The result of comparing two arrays with `|a − b| ≤ atol + rtol·|ref|`.
public struct Closeness: CustomStringConvertible {
    public var ok: Bool
    public var worstIndex: Int
    public var worstExcess: Double
    public var firstFailures: [(Int, Float, Float)]
    public var failures: Int

    public var description: String {
        if ok { return "all close" }
        let pairs = firstFailures.map { "[\($0.0)] got \($0.1) expected \($0.2)" }.joined(separator: "; ")
        return "\(failures) values outside tolerance; worst at index \(worstIndex) (excess \(worstExcess)); first: \(pairs)"
    }
}

/// Compares `actual` to `expected` elementwise: `|a − e| ≤ atol + rtol·|e|`; NaN never passes unless both are NaN.
public func closeness(_ actual: [Float], _ expected: [Float], atol: Float, rtol: Float) -> Closeness {
    var c = Closeness(ok: actual.count == expected.count, worstIndex: -1, worstExcess: 0, firstFailures: [], failures: 0)
    guard c.ok else {
        c.firstFailures = [(-1, Float(actual.count), Float(expected.count))]
        c.failures = 1
        return c
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }   // covers matching infinities
        let diff = abs(Double(a) - Double(e))
        let bound = Double(atol) + Double(rtol) * abs(Double(e))
        if !(diff <= bound) {
            c.ok = false
            c.failures += 1
            if c.firstFailures.count < 5 { c.firstFailures.append((i, a, e)) }
            let excess = diff.isNaN ? .infinity : diff - bound
            if excess > c.worstExcess || c.worstIndex < 0 { c.worstExcess = excess; c.worstIndex = i }
        }
    }
    return c
}

/// Records a test failure (with the worst index and the first few pairs) unless the arrays are close.
public func expectClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-5,
                        _ label: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let c = closeness(actual, expected, atol: atol, rtol: rtol)
    #expect(c.ok, "\(label()) \(c)", sourceLocation: sourceLocation)
}

/// Tensor version: shapes must match too.
public func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-5,
                        _ label: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(label()) shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    expectClose(actual.scalars, expected.scalars, atol: atol, rtol: rtol, label(), sourceLocation: sourceLocation)
}

/// Sequence lengths worth sweeping: 1, primes, SIMD width ± 1, and a real size.
public let sweepLengths = [1, 2, 7, 15, 16, 17, 31, 64, 97]

/// The package root (for running the built CLI and reading shared fixtures).
public let packageRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }   // Tests/AttendTestSupport/Support.swift → root
    return url
}()

/// `../shared` beside the checkout.
public let sharedDirectory: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

/// Where installed models live: `$ATTEND_HOME/models`, else `~/.cache/attend/models`.
public func installedModelFolder(_ name: String) -> URL {
    let env = ProcessInfo.processInfo.environment
    let home = env["ATTEND_HOME"].map { URL(fileURLWithPath: $0) }
        ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/attend")
    return home.appendingPathComponent("models").appendingPathComponent(name)
}

/// True when running under CI (`CI` set), where a missing model is a failure rather than a skip.
public let isCI: Bool = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false

/// Whether an installed model folder exists; tests needing it use `.enabled(if: modelTestsEnabled(…))`
/// so a fresh machine skips them (with the install command in the comment) while CI always runs — and fails — them.
public func modelTestsEnabled(_ name: String = "all-MiniLM-L6-v2") -> Bool {
    isCI || FileManager.default.fileExists(atPath: installedModelFolder(name).appendingPathComponent("model.safetensors").path)
}

/// The reference fixtures made with PyTorch (`../shared/fixtures/minilm-public.json`), parsed once.
public let minilmFixture: [String: Any]? = {
    let url = sharedDirectory.appendingPathComponent("fixtures/minilm-public.json")
    guard let data = try? Data(contentsOf: url) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}()

/// Flattens nested JSON arrays of numbers into Floats.
public func flattenFloats(_ any: Any?) -> [Float] {
    if let n = any as? NSNumber { return [n.floatValue] }
    if let a = any as? [Any] { return a.flatMap { flattenFloats($0) } }
    return []
}

/// No longer needed by the kernel tests: kernel settings are task-local (`Kernels.withSettings { … }`), so a test
/// that forces an ISA or a GEMM path changes nothing for the tests running beside it, and no test writes the
/// process-wide defaults. Kept for tests that want to run alone for another reason; holding it costs only
/// parallelism.
public enum KernelSettingsLock {
    private static let lock = NSLock()

    /// Runs `body` while no other holder runs.
    public static func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

extension SeededRNG {
    /// Uniform in [−1, 1): the tests' kernel inputs (24 random bits, exact in Float).
    public mutating func float() -> Float { 2 * nextUnit() - 1 }
}
