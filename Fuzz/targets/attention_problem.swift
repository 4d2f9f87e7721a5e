// Fuzz target: the `attend attention` input parser (AttentionProblem.parse) and, for inputs it accepts, the
// attention it describes.
import AttendViz
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let d = Data(bytes: data, count: size)
    guard let problem = try? AttentionProblem.parse(d, source: "fuzz.json") else { return 0 }
    _ = try? problem.run()
    return 0
}
