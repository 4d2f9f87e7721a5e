import AttendKernelsC

/// The one dispatch point between tensor ops and kernels.
///
/// Ops call `Kernels.*`; each entry either runs the fast kernel or, when
/// ``Kernels/useReference`` is set, its plain twin from `Kernels/Reference`.
/// Tests flip these switches to compare paths; users never need to.
public enum Kernels {
    /// Run the plain reference twins instead of the fast kernels (for tests and debugging).
    /// Task-local, so concurrent tests do not see each other's choice:
    /// `Kernels.$useReference.withValue(true) { … }`. Read on the calling thread at each kernel's entry.
    @TaskLocal public static var useReference = false

    /// With `!transA`, the GEMM's in-place-A micro-kernel (on ISAs that have one) reads A's rows where they are
    /// instead of packing them into slivers: the same sums in the same order, so the same bits. Tests turn it off
    /// to check the packed path: `Kernels.$gemmReadsAInPlace.withValue(false) { … }`. A task-local switch beside
    /// ``settings`` rather than a field of ``GEMMTuning``: with one more field in ``KernelSettings`` the debug test
    /// build (Swift 6.3.1) crashed reading the task-local settings from an unstructured child task
    /// (ConcurrencyTests.settingsStayWithTheirTask, a bad pointer at 0x8008, every run).
    @TaskLocal public static var gemmReadsAInPlace = true

    /// Row-major single-precision GEMM: `C = alpha · op(A) · op(B) + beta · C`,
    /// `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`.
    /// With `transA` A is stored `[k, m]`; with `transB` B is stored `[n, k]` (PyTorch's Linear layout).
    @inlinable
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if useReference {
            ReferenceKernels.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }
}
