import Foundation

/// One logged training step.
public struct TrainingRecord: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var learningRate: Float
    public var loss: Float
    /// Token accuracy of the training batch (argmax = target over counted tokens).
    public var accuracy: Float
    /// Global gradient norm before clipping.
    public var gradNorm: Float
    /// Seconds since training (or this resumed run) started.
    public var elapsed: Double

    public init(step: Int, totalSteps: Int, learningRate: Float, loss: Float, accuracy: Float, gradNorm: Float, elapsed: Double) {
        self.step = step
        self.totalSteps = totalSteps
        self.learningRate = learningRate
        self.loss = loss
        self.accuracy = accuracy
        self.gradNorm = gradNorm
        self.elapsed = elapsed
    }

    /// `step 120/3000  loss 1.2345  acc 0.734  lr 4.0e-04  |g| 0.82  12.3s`
    public var line: String {
        let width = String(totalSteps).count
        let stepText = String(repeating: " ", count: Swift.max(0, width - String(step).count)) + String(step)
        return "step \(stepText)/\(totalSteps)  loss \(String(format: "%.4f", loss))  acc \(String(format: "%.3f", accuracy))"
            + "  lr \(String(format: "%.1e", learningRate))  |g| \(String(format: "%.2f", gradNorm))  \(String(format: "%.1f", elapsed))s"
    }
}

/// Writes the loss/accuracy log as CSV (`step,lr,loss,accuracy,grad_norm,elapsed_s`) as training goes, and hands
/// each record to a sink (the CLI prints lines and, on a terminal only, a progress bar).
public final class TrainingLog {
    public static let header = "step,lr,loss,accuracy,grad_norm,elapsed_s"
    private let handle: FileHandle?
    public let sink: ((TrainingRecord) -> Void)?
    public private(set) var records: [TrainingRecord] = []

    /// - Parameters:
    ///   - csv: file to write (created; appended to when `append` and it exists, e.g. on resume)
    ///   - sink: called for every record
    public init(csv: URL?, append: Bool = false, sink: ((TrainingRecord) -> Void)? = nil) throws {
        self.sink = sink
        guard let csv else { handle = nil; return }
        let fm = FileManager.default
        if !(append && fm.fileExists(atPath: csv.path)) {
            try Data((Self.header + "\n").utf8).write(to: csv)
        }
        handle = try FileHandle(forWritingTo: csv)
        handle?.seekToEndOfFile()
    }

    deinit { try? handle?.close() }

    public func record(_ r: TrainingRecord) {
        records.append(r)
        let row = "\(r.step),\(r.learningRate),\(r.loss),\(r.accuracy),\(r.gradNorm),\(String(format: "%.3f", r.elapsed))\n"
        handle?.write(Data(row.utf8))
        sink?(r)
    }
}
