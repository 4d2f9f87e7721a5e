import AttendTestSupport
import Foundation
import Testing

/// `attend bench`: tiny shapes only (timing is not tested, only that each bench verifies, reports and
/// rejects bad options with a one-line error).
@Suite("attend bench")
struct BenchCommandTests {
    private func object(_ s: String) throws -> [String: Any] {
        let line = try #require(s.split(separator: "\n").last.map(String.init))
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func attentionVerifiesAndReportsJSON() throws {
        let r = try CLI.run(["bench", "attention", "--heads", "3", "--head-dim", "8", "--lengths", "5", "--non-causal",
                             "--large-n", "0", "--repeats", "1", "--quiet-wait", "0", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try object(r.stdout)
        #expect(o["verified"] as? Bool == true)
        #expect(o["heads"] as? Int == 3 && o["head_dim"] as? Int == 8)
        let rows = try #require(o["results"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["N"] as? Int == 5 && rows[0]["causal"] as? Bool == false)
        // The fraction of peak is the row's GFLOPS over the peak measured in the same run (both rounded as printed).
        let peak = try #require(o["peak_fp32_gflops"] as? Double), gflops = try #require(rows[0]["gflops"] as? Double)
        let fraction = try #require(rows[0]["fraction_of_fp32_peak"] as? Double)
        #expect(peak > 0 && abs(fraction * peak - gflops) <= 0.1 + 5e-5 * peak + 1e-3 * gflops)   // as printed: 0.1 GFLOPS, 4 decimals
    }

    @Test func gemmVerifiesOneShape() throws {
        let r = try CLI.run(["bench", "gemm", "--m", "7", "--n", "17", "--k", "5", "--trans-b", "--repeats", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try object(r.stdout)
        let rows = try #require(o["results"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["m"] as? Int == 7 && rows[0]["trans_b"] as? Bool == true)
        let peak = try #require(o["peak_fp32_gflops"] as? Double), gflops = try #require(rows[0]["gflops"] as? Double)
        let fraction = try #require(rows[0]["fraction_of_fp32_peak"] as? Double)
        #expect(peak > 0 && abs(fraction * peak - gflops) <= 0.1 + 5e-5 * peak + 1e-3 * gflops)   // as printed: 0.1 GFLOPS, 4 decimals
    }

    @Test(arguments: [
        (["bench", "attention", "--heads", "0", "--large-n", "0"], "positive"),
        (["bench", "embed", "--sets", "middle"], "--sets"),
        (["bench", "embed", "--quiet-wait", "-1"], "--quiet-wait"),
        (["bench", "embed", "--precision", "fp8"], "fp8"),
        (["bench", "embed", "--max-batch-tokens", "0"], "--max-batch-tokens must be at least 1"),
        (["bench", "gemm", "--m", "3"], "--m, --n and --k"),
    ])
    func badOptionsAreOneLineErrors(_ args: [String], _ mention: String) throws {
        let r = try CLI.run(args)
        #expect(r.status != 0)
        #expect(r.stderr.contains(mention), "\(args): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
