import AttendTestSupport
import Foundation
import Testing

/// `attend translate`, `attend generate` and `attend train`, run as the built binary.
@Suite("attend translate / generate / train")
struct TrainCommandTests {
    func json(_ text: String) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return try #require(obj, "not a JSON object: \(text)")
    }

    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attend-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func translateWithTheEmbeddedModel() throws {
        let r = try CLI.run(["translate", "the red car"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("→ la voiture rouge"), "\(r.stdout)")
        #expect(!r.stdout.contains("\u{1B}["))   // no colour when not a terminal
    }

    /// The alignment table of the issue's example: each French content word's most-attended English word is its translation.
    @Test func explainShowsAnAlignmentReadableByEye() throws {
        let r = try CLI.run(["translate", "the small dog sees the red car", "--explain"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("→ le petit chien voit la voiture rouge"), "\(r.stdout)")
        #expect(r.stdout.contains("cross-attention, decoder layer"))
        for (fr, en) in [("petit", "small"), ("chien", "dog"), ("voit", "sees"), ("voiture", "car"), ("rouge", "red")] {
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("  \(fr) ") }
            #expect(line?.hasSuffix("→ \(en) " + (line?.split(separator: " ").last ?? "")) == true, "\(fr): \(line ?? "missing")")
        }
    }

    @Test func translateJSON() throws {
        let r = try CLI.run(["translate", "the cat sat on the mat", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect(o["translation"] as? String == "le chat s'est assis sur le tapis")
        let target = try #require(o["target"] as? [String])
        #expect(jsonShape(o["cross_attention"]) == [target.count + 1, 6])   // + the row that produced <eos>
        let alignment = try #require(o["alignment"] as? [[String: Any]])
        #expect(alignment.first { $0["target"] as? String == "chat" }?["source"] as? String == "cat")
        #expect(alignment.first { $0["target"] as? String == "tapis" }?["source"] as? String == "mat")
    }

    @Test func translateReadsStdinAndRejectsUnknownWords() throws {
        let r = try CLI.run(["translate"], stdin: "the red car\nmy dogs sleep\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("la voiture rouge") && r.stdout.contains("mes chiens dorment"), "\(r.stdout)")
        let bad = try CLI.run(["translate", "the red carr"])
        #expect(bad.status != 0 && !bad.crashed)
        #expect(bad.stderr.contains("unknown word \"carr\"") && bad.stderr.contains("\"car\""), "\(bad.stderr)")
        let badHead = try CLI.run(["translate", "the red car", "--explain", "--head", "9"])
        #expect(badHead.status != 0 && !badHead.crashed)
    }

    @Test func bottleneckBaselineAndEvaluation() throws {
        let r = try CLI.run(["translate", "--evaluate", "60", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect(o["sentences"] as? Int == 60)
        #expect((o["exact_match"] as? Double ?? 0) >= 0.9)
        #expect((o["bottleneck_exact_match"] as? Double ?? 1) < (o["exact_match"] as? Double ?? 0))
        let b = try CLI.run(["translate", "the red car", "--bottleneck", "--explain"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("one pooled vector"))
    }

    @Test func generateCompletesARepeat() throws {
        let r = try CLI.run(["generate", "ka mo ti so ra ne bo ka mo", "--count", "5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try json(r.stdout)
        #expect(o["generated"] as? [String] == ["ti", "so", "ra", "ne", "bo"])
        let text = try CLI.run(["generate", "--explain", "--seed", "3"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("induction head: layer 2"), "\(text.stdout)")
        let bad = try CLI.run(["generate", "ka xx"])
        #expect(bad.status != 0 && bad.stderr.contains("unknown token \"xx\""))
    }

    /// A tiny run end to end: log lines, CSV, model folder with provenance, checkpoint, evaluation; then --resume.
    @Test func trainWritesModelLogAndCheckpoint() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "translator", "--steps", "3", "--sentences", "64", "--evaluate", "8", "--batch-size", "8",
                             "--log-every", "1", "--seed", "4", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("step 3/3"), "\(r.stdout)")
        #expect(!r.stderr.contains("█"), "no progress bar when stderr is not a terminal")
        let csv = try String(contentsOf: dir.appendingPathComponent("log.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "step,lr,loss,accuracy,grad_norm,elapsed_s" && csv.count == 4)
        for file in ["model/config.json", "model/vocab.json", "model/model.safetensors", "checkpoint.safetensors", "eval.txt"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
        let config = try json(String(contentsOf: dir.appendingPathComponent("model/config.json"), encoding: .utf8))
        let training = try #require(config["training"] as? [String: String])
        #expect(training["seed"] == "4" && training["command"]?.contains("train translator") == true)
        let translated = try CLI.run(["translate", "the red car", "--model", dir.appendingPathComponent("model").path])
        #expect(translated.status == 0, "\(translated.stderr)")
        // Resuming at the end of the schedule trains no further steps but still writes the model.
        let resumed = try CLI.run(["train", "translator", "--steps", "3", "--sentences", "64", "--evaluate", "8", "--batch-size", "8",
                                   "--seed", "4", "--out", dir.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func trainInductionTiny() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "induction", "--steps", "2", "--batch-size", "2", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("prefix-matching score"), "\(r.stdout)")
        let bad = try CLI.run(["train", "induction", "--bottleneck"])
        #expect(bad.status != 0 && !bad.crashed)
        let missing = try CLI.run(["train", "translator", "--out", dir.appendingPathComponent("nothing").path, "--resume"])
        #expect(missing.status != 0 && missing.stderr.contains("no checkpoint"))
    }
}
