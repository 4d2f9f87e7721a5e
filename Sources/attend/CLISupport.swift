import ArgumentParser
import Attend
import Foundation

/// An error the CLI reports as one line on stderr, exiting with `code`.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var code: Int32 = 1
    init(_ message: String, code: Int32 = 1) { self.message = message; self.code = code }
    var description: String { message }
}

/// Runs a command body, turning any thrown error into `attend: error: …` on stderr and a non-zero exit.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as CLIError {
        Terminal.printError(e.message)
        throw ExitCode(e.code)
    } catch let e as ExitCode {
        throw e
    } catch {
        Terminal.printError("\(error)")
        throw ExitCode(1)
    }
}

enum Terminal {
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
    /// Colour only on a terminal, and never when NO_COLOR is set.
    static var useColor: Bool { stdoutIsTerminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("attend: error: \(message)\n".utf8))
    }

    static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data("attend: warning: \(message)\n".utf8))
    }

    static func bold(_ s: String) -> String { useColor ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    static func dim(_ s: String) -> String { useColor ? "\u{1B}[2m\(s)\u{1B}[0m" : s }
}

/// Minimal JSON writer with exact control over Float formatting (shortest round-trip digits).
enum JSONOut {
    indirect enum Value {
        case number(Float)
        case double(Double)
        case int(Int)
        case string(String)
        case bool(Bool)
        case null
        case array([Value])
        case object([(String, Value)])
    }

    static func render(_ v: Value) -> String {
        var out = ""
        write(v, into: &out)
        return out
    }

    static func write(_ v: Value, into out: inout String) {
        switch v {
        case .number(let f): out += f.isFinite ? shortest(f) : "null"
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .int(let i): out += String(i)
        case .string(let s): out += quote(s)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (k, item)) in pairs.enumerated() {
                if i > 0 { out += "," }
                out += quote(k) + ":"
                write(item, into: &out)
            }
            out += "}"
        }
    }

    static func shortest(_ f: Float) -> String {
        if f == f.rounded(), abs(f) < 1e15 { return String(Int64(f)) }
        return "\(f)"
    }

    static func quote(_ s: String) -> String { JSONText.quote(s) }

    /// A tensor as nested arrays (rank 0 is a number).
    static func tensor(_ t: Tensor) -> Value {
        func build(_ axis: Int, _ offset: Int) -> Value {
            if axis == t.shape.count { return .number(t.scalars[offset]) }
            let stride = t.shape[(axis + 1)...].reduce(1, *)
            return .array((0..<t.shape[axis]).map { build(axis + 1, offset + $0 * stride) })
        }
        return build(0, 0)
    }
}

/// Formats numbers for the readable traces: 4 decimals in the usual range, scientific outside it.
func fmt(_ x: Float, decimals: Int = 4) -> String {
    if x == -.infinity { return "-∞" }
    if x == .infinity { return "∞" }
    if x.isNaN { return "NaN" }
    let a = abs(x)
    if a != 0 && (a >= 1e6 || a < 1e-4) { return String(format: "%.3e", Double(x)) }
    return String(format: "%.\(decimals)f", Double(x))
}

/// Pads `s` on the left to `width` characters.
func padLeft(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : String(repeating: " ", count: width - n) + s
}

/// Pads `s` on the right to `width` characters.
func padRight(_ s: String, _ width: Int) -> String {
    let n = s.count
    return n >= width ? s : s + String(repeating: " ", count: width - n)
}
