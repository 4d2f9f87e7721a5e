// The context a `Variable` forward pass runs in, shared by the demo families: the tape (nil at inference),
// dropout and its generator, and the observer that receives named intermediates.
import AttendNN

/// Per-step training context: the tape (nil at inference) and the dropout generator.
public struct ForwardContext {
    public var tape: Tape?
    public var dropout: Float
    public var rng: SeededRNG
    public var observer: (any IntermediateObserver)?

    public init(tape: Tape? = nil, dropout: Float = 0, rng: SeededRNG = SeededRNG(seed: 0), observer: (any IntermediateObserver)? = nil) {
        self.tape = tape
        self.dropout = dropout
        self.rng = rng
        self.observer = observer
    }

    /// Inference: no tape, no dropout.
    public static func inference(observer: (any IntermediateObserver)? = nil) -> ForwardContext {
        ForwardContext(observer: observer)
    }

    mutating func drop(_ x: Variable) -> Variable {
        guard tape != nil, dropout > 0 else { return x }
        return x.dropout(dropout, rng: &rng)
    }
}
