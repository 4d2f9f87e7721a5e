import Foundation

/// Every knob the kernels read: the ISA level, the thread limit, the GEMM's blocking thresholds and the
/// row kernels' parallel threshold. A plain value, so a request, a test or a benchmark can carry its own.
///
/// The kernels read ``Kernels/settings`` once, on the calling thread, at each kernel's entry, and pass
/// what they need to their worker threads; so two tasks running with different settings never see each
/// other's, and a kernel never sees its settings change half-way.
public struct KernelSettings: Sendable, Equatable {
    /// Forces the micro-kernels to one ISA level; `nil` picks the best. A level the CPU lacks is never
    /// executed: ``activeISA`` then falls back to the best supported.
    public var isa: KernelISA?
    /// The most threads a kernel may use. Values below 1 act as 1.
    public var maxThreads: Int
    /// The single-precision GEMM's shape thresholds (see ``GEMMTuning``).
    public var gemm: GEMMTuning
    /// Elements (rows × cols) below which a row kernel (softmax, layer norm, GELU) stays on the calling
    /// thread. Waking the pool costs about as much as ~32k elements of the cheapest kernel (layer norm).
    public var rowParallelThreshold: Int

    public init(isa: KernelISA? = nil, maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
                gemm: GEMMTuning = GEMMTuning(), rowParallelThreshold: Int = 1 << 15) {
        (self.isa, self.maxThreads, self.gemm, self.rowParallelThreshold) = (isa, maxThreads, gemm, rowParallelThreshold)
    }

    /// The ISA level these settings run: ``isa`` when this CPU supports it, else the best level.
    public var activeISA: KernelISA {
        if let isa, isa.isSupported { return isa }
        return KernelISA.best
    }

    /// The settings a process starts with: every default, with the ISA forced by the environment variable
    /// `ATTEND_ISA` (`generic`, `avx2`, `avx512` or `neon`; read once, at first use). An unknown value is
    /// reported on stderr once and ignored.
    public static let startup: KernelSettings = {
        var s = KernelSettings()
        switch KernelISA.parseEnvironment(ProcessInfo.processInfo.environment["ATTEND_ISA"]) {
        case .success(let isa): s.isa = isa
        case .failure(let message):
            FileHandle.standardError.write(Data("attend: \(message)\n".utf8))
        }
        return s
    }()
}

/// The single-precision GEMM's shape thresholds (PERFORMANCE-NOTES). They choose paths, never results
/// beyond rounding: every path computes the same product.
public struct GEMMTuning: Sendable, Equatable {
    /// The most k per packed slice; k is cut into equal slices of at most this depth.
    public var kcMax = 768
    /// m·n·k at or below this runs the unblocked C loop: no packing, no threads.
    public var tinyWork = 512
    /// Multiply-adds per thread below which another thread does not pay for its wake-up.
    public var workPerThread = 1 << 18
    /// With M at or below this, A is packed whole and threads split N instead of M.
    public var splitNMaxM = 384
    /// With `!transB` and M at or below this, the micro-kernel reads B in place instead of packing.
    public var directBMaxM = 96
    /// With `transB`, `!transA` and M at or below this, the ISA's dot-product kernel (if any) reads
    /// both operands in place instead of transposing B into packed slivers.
    public var dotMaxM = 64
    /// …and k at least this: with shallower k the kernel's final reductions outweigh its FMAs.
    public var dotMinK = 128

    public init() {}

    /// Depth of each packed k slice: `k` cut into equal slices of at most ``kcMax``.
    public func sliceDepth(_ k: Int) -> Int {
        let slices = Swift.max(1, (k + kcMax - 1) / Swift.max(kcMax, 1))
        return (k + slices - 1) / slices
    }
}

extension KernelISA {
    /// `ATTEND_ISA`'s value as a level: nil when unset or empty, a message naming the accepted values when unknown.
    static func parseEnvironment(_ value: String?) -> Result<KernelISA?, EnvironmentError> {
        guard let value, !value.isEmpty else { return .success(nil) }
        guard let isa = KernelISA(rawValue: value.lowercased()) else {
            return .failure(EnvironmentError(description:
                "ATTEND_ISA=\(value) is not one of \(allCases.map(\.rawValue).joined(separator: ", ")); using the best level, \(best)"))
        }
        return .success(isa)
    }

    struct EnvironmentError: Error, CustomStringConvertible { let description: String }
}

extension Kernels {
    /// Settings bound to the current task (and the tasks it starts) by ``withSettings(_:_:)``; nil outside.
    @TaskLocal static var scopedSettings: KernelSettings? = nil

    /// The process-wide defaults, guarded by a lock: what a task runs with unless it binds its own.
    private static let defaults = LockedSettings(KernelSettings.startup)

    /// The settings the kernels use right now: those bound to this task by ``withSettings(_:_:)``, else the
    /// process-wide ``defaultSettings``. Kernels read them once, at entry, on the calling thread.
    public static var settings: KernelSettings { scopedSettings ?? defaults.value }

    /// The process-wide defaults (``KernelSettings/startup`` until changed). Setting them is for a program's
    /// start (a command's `--threads` flag); concurrent work with its own needs uses ``withSettings(_:_:)``.
    public static var defaultSettings: KernelSettings {
        get { defaults.value }
        set { defaults.value = newValue }
    }

    /// Runs `body` with the current settings changed by `change`, for this task and the tasks it starts only:
    /// `Kernels.withSettings({ $0.isa = .generic; $0.maxThreads = 1 }) { … }`.
    public static func withSettings<R>(_ change: (inout KernelSettings) -> Void, _ body: () throws -> R) rethrows -> R {
        var s = settings
        change(&s)
        return try $scopedSettings.withValue(s, operation: body)
    }

    /// Runs `body` with exactly `settings` (e.g. a caller's, captured with ``settings``, carried to a thread
    /// that is not part of its task).
    public static func withSettings<R>(_ settings: KernelSettings, _ body: () throws -> R) rethrows -> R {
        try $scopedSettings.withValue(settings, operation: body)
    }

    /// ``withSettings(_:_:)`` for async work.
    public static func withSettings<R>(_ change: (inout KernelSettings) -> Void,
                                       isolation: isolated (any Actor)? = #isolation,
                                       _ body: () async throws -> R) async rethrows -> R {
        var s = settings
        change(&s)
        return try await $scopedSettings.withValue(s, operation: body)
    }
}

/// A value behind a lock (the package still supports macOS 13, which lacks `Synchronization.Mutex`).
private final class LockedSettings: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: KernelSettings
    init(_ value: KernelSettings) { stored = value }
    var value: KernelSettings {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
