// Fuzz target: the GGUF reader (magic, version, counts, metadata values, tensor infos, alignment, offsets), then
// every metadata accessor and every tensor dequantized.
import AttendTensor
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzScratch.write(data, size, name: "model.gguf")
    guard let file = try? GGUFFile(url: url) else { return 0 }
    for key in file.metadataKeys {
        _ = try? file.string(key)
        _ = try? file.int(key)
        _ = try? file.double(key)
        _ = try? file.bool(key)
        _ = try? file.stringArray(key)
        _ = try? file.intArray(key)
        _ = try? file.floatArray(key)
    }
    for name in file.tensorNames {
        _ = try? file.info(name)
        _ = try? file.tensor(name)
        _ = try? file.quantizedMatrix(name)
    }
    return 0
}
