// Colour ramps for the heatmaps, and terminal colour modes.
import Foundation

/// An RGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) { self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF)) }

    /// `#rrggbb`
    public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }
    /// Relative luminance in 0…1 (sRGB approximation): picks black or white text on top.
    public var luminance: Double { (0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b)) / 255 }
}

/// A sequential colour ramp sampled at evenly spaced stops.
public struct ColorRamp: Sendable {
    public var stops: [RGB]

    /// matplotlib's viridis: dark purple (0) → yellow (1); readable on dark and light terminals alike.
    public static let viridis = ColorRamp(stops: [0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e,
                                                  0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725].map(RGB.init(hex:)))
    /// White (0) → blue → navy (1): for pages with a white background (SVG, HTML).
    public static let blues = ColorRamp(stops: [0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                                                0x4292c6, 0x2171b5, 0x08519c, 0x08306b].map(RGB.init(hex:)))

    /// The colour at `t` in 0…1 (clamped), interpolated linearly between stops.
    public func color(_ t: Double) -> RGB {
        guard stops.count > 1 else { return stops.first ?? RGB(0, 0, 0) }
        let x = max(0, min(1, t.isNaN ? 0 : t)) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(x))
        let f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(p) + (Double(q) - Double(p)) * f).rounded()))) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }
}

/// How a terminal can show colour.
public enum TerminalColor: String, Sendable, CaseIterable {
    /// No escape codes: ASCII shades.
    case none
    /// The xterm 256-colour palette.
    case ansi256
    /// 24-bit colour.
    case truecolor

    /// Truecolor when `COLORTERM` says so, else 256 colours (for output that is going to a colour terminal).
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalColor {
        let ct = (environment["COLORTERM"] ?? "").lowercased()
        return ct.contains("truecolor") || ct.contains("24bit") ? .truecolor : .ansi256
    }

    /// The escape sequence setting the background (or foreground) to `c`.
    func sgr(_ c: RGB, background: Bool) -> String {
        switch self {
        case .none: return ""
        case .truecolor: return "\u{1B}[\(background ? 48 : 38);2;\(c.r);\(c.g);\(c.b)m"
        case .ansi256:
            func level(_ v: UInt8) -> Int { Int((Double(v) / 255 * 5).rounded()) }
            let idx = 16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b)
            return "\u{1B}[\(background ? 48 : 38);5;\(idx)m"
        }
    }
}

/// Bold and dim when colour is on; plain text otherwise.
public struct TextStyle: Sendable {
    public var color: TerminalColor
    public init(color: TerminalColor) { self.color = color }
    public func bold(_ s: String) -> String { color == .none ? s : "\u{1B}[1m\(s)\u{1B}[0m" }
    public func dim(_ s: String) -> String { color == .none ? s : "\u{1B}[2m\(s)\u{1B}[0m" }
    static let reset = "\u{1B}[0m"
}
