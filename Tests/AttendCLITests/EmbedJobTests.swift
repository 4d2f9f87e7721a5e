import AttendTestSupport
import Foundation
import Testing

/// `attend embed --input … --output …`: the streaming job through the built binary with the installed model —
/// formats, bad records, shards merged equal one run, the same bytes whatever the thread count, and SIGKILL + resume.
@Suite("attend embed as a streaming job", .serialized,
       .enabled(if: modelTestsEnabled(), "install the model: swift run attend models install all-MiniLM-L6-v2"))
struct EmbedJobTests {
    /// `count` short JSON Lines documents (1–6 words, deterministic), plus two bad lines when `bad`.
    static func corpus(_ count: Int, bad: Bool) -> String {
        let words = "the cat dog sat on a mat rug park ran fast slow under over bright dark river hill city car red blue".split(separator: " ")
        var state: UInt64 = 42
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var lines: [String] = []
        for i in 0..<count {
            let text = (0..<(1 + next() % 6)).map { _ in String(words[next() % words.count]) }.joined(separator: " ")
            lines.append("{\"id\": \"doc-\(i)\", \"text\": \"\(text)\", \"source\": \(i % 3)}")
            if bad && i == 4 { lines.append("{\"id\": \"no-text\", \"body\": \"x\"}") }
            if bad && i == 9 { lines.append("{not json") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func directory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-embedjob-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func bytes(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    @Test func jsonLinesWithBadRecordsAndSidecar() throws {
        let dir = try Self.directory()
        let input = dir.appendingPathComponent("docs.jsonl")
        try Data(Self.corpus(12, bad: true).utf8).write(to: input)
        let out = dir.appendingPathComponent("docs.emb.jsonl")
        let r = try CLI.run(["embed", "--input", input.path, "--output", out.path, "--window", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("2 bad records"))
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.count == 14)
        #expect(lines[0]["id"] as? String == "doc-0")
        #expect(lines[0]["source"] as? Int == 0)
        #expect((lines[0]["embedding"] as? [Any])?.count == 384)
        #expect(lines[5]["id"] as? String == "no-text")
        #expect(lines[5]["error"] as? String == "no \"text\" field")
        #expect(lines[5]["line"] as? Int == 6)
        #expect(lines[11]["error"] as? String != nil && lines[11]["id"] is NSNull)
        // The same texts given as arguments give the same vectors (to the printed digits).
        let args = try CLI.run(["embed", "--json", textOf(input, line: 0)])
        let direct = try #require(try JSONSerialization.jsonObject(with: Data(args.stdout.utf8)) as? [String: Any])
        expectClose(flatNumbers(lines[0]["embedding"]), flatNumbers(direct["embedding"]), atol: 1e-6, rtol: 1e-5, "doc-0")
        let meta = try #require(try JSONSerialization.jsonObject(with: bytes(dir.appendingPathComponent("docs.emb.meta.json"))) as? [String: Any])
        let model = try #require(meta["model"] as? [String: Any])
        #expect(model["sha256"] as? String == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
        #expect(model["dimension"] as? Int == 384 && model["normalize"] as? Bool == true)
        #expect(meta["count"] as? Int == 12 && meta["errors"] as? Int == 2)
        // --skip-bad drops them; stdout works as an output.
        let skipped = try CLI.run(["embed", "--input", input.path, "--output", "-", "--skip-bad", "--window", "5"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.split(separator: "\n").count == 12)
    }

    func textOf(_ url: URL, line: Int) throws -> String {
        let l = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")[line]
        return try #require((try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])?["text"] as? String)
    }

    @Test func binaryMatrixWithIds() throws {
        let dir = try Self.directory()
        let input = dir.appendingPathComponent("docs.jsonl")
        try Data(Self.corpus(10, bad: true).utf8).write(to: input)
        let json = dir.appendingPathComponent("a.jsonl"), npy = dir.appendingPathComponent("v.npy"), fbin = dir.appendingPathComponent("w.fbin")
        for out in [json, npy, fbin] {
            let r = try CLI.run(["embed", "--input", input.path, "--output", out.path, "--window", "4"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let rows = try String(contentsOf: json, encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["embedding"]
        }.map { flatNumbers($0) }
        #expect(rows.count == 10)
        let n = try bytes(npy)
        #expect(n.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        #expect(n.count == 128 + 10 * 384 * 4)
        #expect(String(decoding: n[10..<128], as: UTF8.self).contains("'shape': (10, 384)"))
        let f = try bytes(fbin)
        #expect(f.count == 8 + 10 * 384 * 4)
        #expect(f.prefix(8) == Data([10, 0, 0, 0, 128, 1, 0, 0]))
        #expect(n.suffix(from: 128) == f.suffix(from: 8))   // same float32 rows
        let first = f.subdata(in: 8..<(8 + 384 * 4)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        expectClose(first, rows[0], atol: 0, rtol: 0, "row 0 of .fbin vs JSON Lines")
        let ids = try String(contentsOf: dir.appendingPathComponent("v.ids.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(ids.count == 10 && ids[0] == "{\"id\":\"doc-0\",\"source\":0}")
        let errors = try String(contentsOf: dir.appendingPathComponent("v.errors.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(errors.count == 2)
        // float16: half the bytes, each value the float32 one rounded.
        let half = dir.appendingPathComponent("h.npy")
        let r = try CLI.run(["embed", "--input", input.path, "--output", half.path, "--dtype", "float16"])
        #expect(r.status == 0, "\(r.stderr)")
        let h = try bytes(half)
        #expect(h.count == 128 + 10 * 384 * 2)
        let h0 = h.subdata(in: 128..<(128 + 384 * 2)).withUnsafeBytes { $0.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: $0)) } }
        expectClose(h0, rows[0], atol: 1e-4, rtol: 1e-3, "float16 row 0")
        let bad = try CLI.run(["embed", "--input", input.path, "--output", fbin.path, "--dtype", "float16"])
        #expect(bad.status != 0 && bad.stderr.contains(".fbin holds float32 only"))
    }

    /// Shards 2 and 4 merged window by window equal one run byte for byte; a different thread count too.
    @Test func shardsMergedEqualOneRun() throws {
        let dir = try Self.directory()
        let input = dir.appendingPathComponent("docs.jsonl")
        try Data(Self.corpus(45, bad: true).utf8).write(to: input)
        let window = 6
        let single = dir.appendingPathComponent("single.jsonl")
        var r = try CLI.run(["embed", "--input", input.path, "--output", single.path, "--window", "\(window)", "--batch-size", "4", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let reference = try bytes(single)
        for n in [2, 4] {
            var shards: [[Data.SubSequence]] = []
            for i in 0..<n {
                let out = dir.appendingPathComponent("s\(n)-\(i).jsonl")
                // Shard 0 through JOB_COMPLETION_INDEX, as a Kubernetes Indexed Job passes it.
                let args = i == 0 ? ["--shards", "\(n)"] : ["--shard", "\(i)/\(n)"]
                r = try CLI.run(["embed", "--input", input.path, "--output", out.path, "--window", "\(window)", "--batch-size", "4"] + args,
                                env: ["JOB_COMPLETION_INDEX": "\(i)"])
                #expect(r.status == 0, "\(r.stderr)")
                shards.append(try bytes(out).split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { $0 })
            }
            var merged = Data()
            var position = [Int](repeating: 0, count: n)
            var k = 0
            while (0..<n).contains(where: { position[$0] < shards[$0].count }) {
                let i = k % n
                for line in shards[i][position[i]..<min(shards[i].count, position[i] + window)] { merged.append(contentsOf: line); merged.append(0x0A) }
                position[i] += window
                k += 1
            }
            #expect(merged == reference, "\(n) shards merged differ from one run")
        }
        // By id: every record lands in exactly one shard.
        var seen: [String] = []
        for i in 0..<3 {
            r = try CLI.run(["embed", "--input", input.path, "--output", "-", "--shard", "\(i)/3", "--shard-by", "id", "--skip-bad"])
            #expect(r.status == 0, "\(r.stderr)")
            seen += r.stdout.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? String }
        }
        #expect(seen.sorted() == (0..<45).map { "doc-\($0)" }.sorted())
    }

    /// Kills a real `attend embed` with SIGKILL at random points, resumes, and checks the bytes equal an
    /// uninterrupted run (made with another thread count), and that no killed run leaves the final output.
    @Test func sigkillAndResumeGiveTheSameBytes() throws {
        guard let binary = CLI.binary else { Issue.record("no attend binary"); return }
        let dir = try Self.directory()
        let input = dir.appendingPathComponent("docs.jsonl")
        try Data(Self.corpus(200, bad: true).utf8).write(to: input)
        for (format, ext) in [("jsonl", "jsonl"), ("npy", "npy")] {
            let common = ["--input", input.path, "--window", "16", "--batch-size", "8"]
            let reference = dir.appendingPathComponent("reference.\(ext)")
            let r = try CLI.run(["embed"] + common + ["--output", reference.path, "--threads", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            let out = dir.appendingPathComponent("resumed.\(ext)")
            var kills = 0, checkpointed = 0
            var delays: [Double] = []
            func linesDone() -> Int {
                guard let d = FileManager.default.contents(atPath: out.path + ".progress"),
                      let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return -1 }
                return o["lines"] as? Int ?? -1
            }
            for attempt in 0..<4 {
                let p = Process()
                p.executableURL = binary
                p.arguments = ["embed"] + common + ["--output", out.path, "--resume"]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                let before = linesDone()
                try p.run()
                // The first kill comes at a random early point (often before any checkpoint); the others a random
                // time after the run has checkpointed a new window, whatever the machine's load.
                if attempt > 0 {
                    let deadline = Date().addingTimeInterval(120)
                    while p.isRunning, linesDone() <= before, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
                }
                let delay = Double.random(in: attempt == 0 ? 0.2...1.5 : 0.0...1.0)
                delays.append(delay)
                Thread.sleep(forTimeInterval: delay)
                if p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                    p.waitUntilExit()
                    kills += 1
                    if FileManager.default.fileExists(atPath: out.path + ".progress") { checkpointed += 1 }
                    #expect(!FileManager.default.fileExists(atPath: out.path), "a run killed after \(delay) s left \(out.lastPathComponent)")
                } else {
                    p.waitUntilExit()
                    break
                }
            }
            let last = try CLI.run(["embed"] + common + ["--output", out.path, "--resume"])
            #expect(last.status == 0, "\(last.stderr)")
            #expect(kills >= 1 && checkpointed >= 1, "\(kills) runs killed, \(checkpointed) after a checkpoint (delays \(delays))")
            #expect(try bytes(out) == bytes(reference), "\(format): resumed after \(kills) kills at \(delays) s differs from an uninterrupted run")
            #expect(!FileManager.default.fileExists(atPath: out.path + ".progress"))
            #expect(!FileManager.default.fileExists(atPath: out.path + ".part"))
            if format == "npy" {
                #expect(try bytes(dir.appendingPathComponent("resumed.ids.jsonl")) == bytes(dir.appendingPathComponent("reference.ids.jsonl")))
                #expect(try bytes(dir.appendingPathComponent("resumed.errors.jsonl")) == bytes(dir.appendingPathComponent("reference.errors.jsonl")))
            }
        }
    }

    @Test func errorsAreOneLine() throws {
        var r = try CLI.run(["embed", "--input", "/nonexistent/docs.jsonl", "--output", "-"])
        #expect(r.status != 0 && r.stderr.contains("/nonexistent/docs.jsonl: no such file"))
        r = try CLI.run(["embed", "--input", "-", "--output", "-", "--shard", "3/2"], stdin: "a\n")
        #expect(r.status != 0 && r.stderr.contains("shard index must be in 0..<2"))
        r = try CLI.run(["embed", "--input", "-", "--output", "-", "--shards", "2"], stdin: "a\n", env: ["JOB_COMPLETION_INDEX": ""])
        #expect(r.status != 0 && r.stderr.contains("JOB_COMPLETION_INDEX"))
        r = try CLI.run(["embed", "--input", "-", "--output", "-", "--resume"], stdin: "a\n")
        #expect(r.status != 0 && r.stderr.contains("--resume needs an output file"))
        // Plain lines from stdin: ids are line numbers; a line with invalid UTF-8 is an error record.
        r = try CLI.run(["embed", "--input", "-", "--output", "-"], stdin: "first\n\nthird\n")
        #expect(r.status == 0, "\(r.stderr)")
        let ids = r.stdout.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["id"] as? Int }
        #expect(ids == [1, 2, 3])
    }
}
