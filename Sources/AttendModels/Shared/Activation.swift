// Feed-forward activations, shared by the model families.
import AttendNN

/// Feed-forward activations by their Hugging Face names.
public enum Activation: Sendable {
    case gelu, geluTanh, relu

    init?(hfName: String) {
        switch hfName {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        default: return nil
        }
    }

    var fused: FusedActivation {
        switch self {
        case .gelu: return .gelu
        case .geluTanh: return .geluTanh
        case .relu: return .relu
        }
    }
}
