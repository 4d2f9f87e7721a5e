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
}
