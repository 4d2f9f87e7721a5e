import ArgumentParser
import Attend

@main
struct AttendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend",
        abstract: "The transformer attention mechanism, computed and explained.",
        discussion: """
        Start here:
          attend attention Examples/tutorial.json      attention on your own numbers, every step shown
          attend models install all-MiniLM-L6-v2       fetch the pretrained sentence encoder
          attend embed "The cat sat on the mat"        sentence embeddings equal to PyTorch's
        """,
        subcommands: [
            AttentionCommand.self,
            ExplainCommand.self,
            TokenizeCommand.self,
            EmbedCommand.self,
            SimilarityCommand.self,
            SearchCommand.self,
            IndexCommand.self,
            NeighborsCommand.self,
            ModelsCommand.self,
            BenchCommand.self,
            TrainCommand.self, TranslateCommand.self, GenerateCommand.self, ChatCommand.self,
            ServeCommand.self,
        ])

    /// Keeps the large blocks the models free for the next allocation, then runs the command. glibc serves blocks of
    /// more than 128 KiB (a 512-token prefill allocates many of 1–3 MiB per layer) with fresh `mmap` pages and gives
    /// them back on `free`, so every such tensor paid page faults and the kernel's zeroing of its pages (about a tenth
    /// of a prefill's time); below 32 MiB they now come from the heap, which keeps up to 256 MiB of freed space (see `Kernels.keepFreedMemory`).
    static func main() {
        Kernels.keepFreedMemory()
        main(nil)
    }
}
