// Fuzz target: the safetensors reader (header length, JSON header, dtypes, shapes, data offsets), then every tensor read.
import AttendTensor
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzScratch.write(data, size, name: "model.safetensors")
    guard let file = try? SafetensorsFile(url: url) else { return 0 }
    for name in file.names {
        _ = try? file.info(name)
        _ = try? file.tensor(name)
        _ = try? file.intArray(name)
        _ = try? file.withUnsafeRawBytes(name) { $0.count }
    }
    return 0
}
