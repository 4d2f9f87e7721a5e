// Fuzz target: config.json of every model family, loaded through ModelRegistry as `attend` does.
// The input is config.json; whatever follows its first NUL byte becomes the family's second file
// (sentence_bert_config.json for bert/mpnet, vocab.json for the translator). The demo models' folders hold their
// embedded weights as symlinks, so a config that passes validation goes on to the weight checks and model
// construction; the bert and mpnet folders hold no weights (loading the real tokenizers takes more than the 1 s a
// fuzz input may take), so their configs are checked up to the point where the weights would be read.
import AttendModels
import Foundation

func folder(_ family: String, from source: URL?) -> URL {
    let url = FuzzScratch.directory.appendingPathComponent(family)
    let fm = FileManager.default
    try? fm.createDirectory(at: url, withIntermediateDirectories: true)
    if let source, let items = try? fm.contentsOfDirectory(atPath: source.path) {
        for item in items where item != "config.json" && item != "sentence_bert_config.json" && item != "vocab.json" {
            try? fm.createSymbolicLink(at: url.appendingPathComponent(item), withDestinationURL: source.appendingPathComponent(item))
        }
    }
    return url
}

let bertFolder = folder("bert", from: nil)
let mpnetFolder = folder("mpnet", from: nil)
let gptFolder = folder("gpt", from: DemoModels.folder(DemoModels.inductionGPT))
let translatorFolder = folder("translator", from: DemoModels.folder(DemoModels.translator))

/// Makes the four folders before fuzzing starts.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    _ = (bertFolder, mpnetFolder, gptFolder, translatorFolder)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let all = Data(bytes: data, count: size)
    let cut = all.firstIndex(of: 0) ?? all.endIndex
    let config = all[all.startIndex..<cut]
    let second = cut < all.endIndex ? all[(cut + 1)...] : nil
    let text = String(decoding: config, as: UTF8.self)
    let target: URL
    let secondName: String
    if text.contains("mpnet") {
        (target, secondName) = (mpnetFolder, "sentence_bert_config.json")
    } else if text.contains("translator") {
        (target, secondName) = (translatorFolder, "vocab.json")
    } else if text.contains("gpt") {
        (target, secondName) = (gptFolder, "unused.json")
    } else {
        (target, secondName) = (bertFolder, "sentence_bert_config.json")
    }
    try? config.write(to: target.appendingPathComponent("config.json"))
    let secondURL = target.appendingPathComponent(secondName)
    try? FileManager.default.removeItem(at: secondURL)
    if let second {
        try? second.write(to: secondURL)
    } else if secondName == "vocab.json", let demo = DemoModels.folder(DemoModels.translator) {
        try? FileManager.default.copyItem(at: demo.appendingPathComponent("vocab.json"), to: secondURL)
    }
    _ = try? ModelRegistry.load(folder: target)
    return 0
}
