// The training loop both demo models share: AdamW on every parameter, a warm-up + decay learning-rate
// schedule, global-norm gradient clipping, one log record per step, checkpoints every N steps and at the
// end, and an exact resume from a checkpoint. Each model supplies only its forward pass and loss.
import AttendNN
import Foundation

/// The optimisation settings of a training run (both demo models' options conform).
public protocol TrainingSettings {
    var steps: Int { get }
    var learningRate: Float { get }
    var warmupSteps: Int { get }
    var weightDecay: Float { get }
    var clipNorm: Float { get }
    /// Save a checkpoint every this many steps (0: only at the end).
    var checkpointEvery: Int { get }
    /// Strings stored with each checkpoint.
    var provenance: [String: String] { get }
}

extension InductionTrainingOptions: TrainingSettings {}
extension TranslatorTrainingOptions: TrainingSettings {}

/// One step's result from a model's forward pass, recorded on `tape`.
struct TrainingStepResult {
    /// The scalar loss to minimise.
    var loss: Variable
    /// Top-1 hits and the number of targets counted (for the logged accuracy).
    var hits: Int
    var counted: Int
}

enum TrainingLoop {
    /// Runs steps `start ..< min(stopAfter, steps)` (start = the checkpoint's step when resuming) and returns
    /// their losses. `forward(step, tape)` builds the step's batch and returns its loss.
    static func run(model: any Module, settings o: some TrainingSettings, log: TrainingLog?, checkpoint: URL?,
                    resume: Bool, stopAfter: Int?,
                    forward: (_ step: Int, _ tape: Tape) throws -> TrainingStepResult) throws -> [Float] {
        let parameters = model.namedParameters()
        let optimizer = AdamW(parameters: parameters, learningRate: o.learningRate, beta1: 0.9, beta2: 0.98,
                              weightDecay: o.weightDecay)
        let schedule = LearningRateSchedule(peak: o.learningRate, warmupSteps: o.warmupSteps, totalSteps: o.steps)
        var start = 0
        if resume, let checkpoint, FileManager.default.fileExists(atPath: checkpoint.path) {
            start = try Checkpoint.load(from: checkpoint, model: model, optimizer: optimizer).step
        }
        let clock = ContinuousClock(), began = clock.now
        var losses: [Float] = []
        let end = Swift.min(stopAfter ?? o.steps, o.steps)   // stopAfter: interrupt early (tests), saving a checkpoint
        guard start < end else { return [] }
        for step in start..<end {
            let tape = Tape()
            let result = try forward(step, tape)
            try tape.backward(result.loss)
            var grads = tape.gradients(for: parameters)
            let norm = grads.clipGlobalNorm(o.clipNorm)
            optimizer.learningRate = schedule(step)
            try optimizer.step(grads)
            let lossValue = result.loss.value.scalars[0]
            losses.append(lossValue)
            let elapsed = clock.now - began
            log?.record(TrainingRecord(step: step + 1, totalSteps: o.steps, learningRate: optimizer.learningRate, loss: lossValue,
                                       accuracy: Float(result.hits) / Float(Swift.max(result.counted, 1)), gradNorm: norm,
                                       elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
            guard lossValue.isFinite else { throw ModelError.invalidInput("training diverged at step \(step + 1) (loss \(lossValue))") }
            if let checkpoint, (o.checkpointEvery > 0 && (step + 1) % o.checkpointEvery == 0) || step + 1 == end {
                try Checkpoint.save(model: model, optimizer: optimizer, step: step + 1, metadata: o.provenance, to: checkpoint)
            }
        }
        return losses
    }
}
