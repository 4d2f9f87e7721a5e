// Fuzz target: the BERT WordPiece tokenizer of all-MiniLM-L6-v2 (installed model) on arbitrary bytes, through
// FuzzTokenizer.exercise (FuzzSupport.swift).
import AttendTokenizers
import Foundation

let tokenizer = FuzzTokenizer.load(variable: "ATTEND_FUZZ_WORDPIECE", defaultPath: NSHomeDirectory() + "/.cache/attend/models/all-MiniLM-L6-v2/tokenizer.json")

/// Loads the tokenizer before fuzzing starts, so the first input is not charged for it.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    _ = tokenizer.encode("warm up")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTokenizer.exercise(tokenizer, data, size)
    return 0
}
