import AttendKernelsC
import Foundation

/// The instruction-set levels Attend's C micro-kernels are compiled for.
///
/// Every level is compiled into every build (x86-64 levels through per-function target attributes,
/// NEON on arm64); the one used is chosen at run time, so a plain `swift build` runs on any CPU.
public enum KernelISA: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Plain C, vectorised by the compiler for the baseline ISA.
    case generic
    /// x86-64 AVX2 + FMA (256-bit).
    case avx2
    /// x86-64 AVX-512F (512-bit).
    case avx512
    /// AArch64 Advanced SIMD.
    case neon

    public var description: String { rawValue }

    /// Whether this CPU (and OS) can run this level's code.
    public var isSupported: Bool { attend_isa_supported(cValue) != 0 }

    /// The levels this CPU can run, `generic` first.
    public static var supported: [KernelISA] { allCases.filter(\.isSupported) }

    /// The best level this CPU supports.
    public static let best: KernelISA = KernelISA(attend_detect_isa())

    @usableFromInline
    var cValue: attend_isa {
        switch self {
        case .generic: return ATTEND_ISA_GENERIC
        case .avx2: return ATTEND_ISA_AVX2
        case .avx512: return ATTEND_ISA_AVX512
        case .neon: return ATTEND_ISA_NEON
        }
    }

    init(_ c: attend_isa) {
        switch c {
        case ATTEND_ISA_AVX2: self = .avx2
        case ATTEND_ISA_AVX512: self = .avx512
        case ATTEND_ISA_NEON: self = .neon
        default: self = .generic
        }
    }
}

extension Kernels {
    /// The forced ISA level of the current ``settings`` (`nil`: the best). Setting it changes the
    /// process-wide ``defaultSettings``; to force a level for one task only, use
    /// `Kernels.withSettings({ $0.isa = .generic }) { … }`. `ATTEND_ISA` sets the starting value.
    public static var forcedISA: KernelISA? {
        get { settings.isa }
        set { defaultSettings.isa = newValue }
    }

    /// The ISA level the fast kernels use right now (``settings``' forced level when supported, else the best).
    public static var activeISA: KernelISA { settings.activeISA }

    /// The most threads a kernel may use under the current ``settings`` (default: the active processor count).
    /// Values below 1 act as 1. Setting it changes the process-wide ``defaultSettings``.
    public static var maxThreads: Int {
        get { settings.maxThreads }
        set { defaultSettings.maxThreads = newValue }
    }
}
