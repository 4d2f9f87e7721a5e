import Attend
import Foundation

extension BenchCommand {
    /// `attend bench peak`: the fp32 FMA and int8 dot-product limits of every ISA level this CPU runs.
    func runPeak() {
        let levels = isa.flatMap(KernelISA.init(rawValue:)).map { [$0] } ?? KernelISA.supported
        let threads = Kernels.maxThreads
        let peaks = levels.map { Kernels.measurePeak(isa: $0, threads: threads) }
        if json {
            print(JSONValue.object([
                ("bench", .string("peak")), ("threads", .int(threads)), ("best_isa", .string("\(KernelISA.best)")),
                ("results", .array(peaks.map { p in
                    .object([("isa", .string("\(p.isa)")),
                             ("fp32_gflops_1_thread", .double(p.fp32OneThread)),
                             ("fp32_gflops", .double(p.fp32AllThreads)),
                             ("int8_gops_1_thread", .double(p.int8OneThread)),
                             ("int8_gops", .double(p.int8AllThreads)),
                             ("int8_instructions", .string(p.int8Variant))])
                })),
            ]).rendered())
            return
        }
        print("Arithmetic peak: register-only chains of each ISA's widest fp32 FMA and int8 dot product (2 ops per multiply-add)")
        print("isa       fp32 GFLOPS  1 thread / \(threads)    int8 GOPS  1 thread / \(threads)    int8 instructions")
        for p in peaks {
            print(padRight("\(p.isa)", 10)
                  + String(format: "%19.1f / %-6.1f %16.1f / %-7.1f", p.fp32OneThread, p.fp32AllThreads, p.int8OneThread, p.int8AllThreads)
                  + "  " + p.int8Variant)
        }
    }
}
