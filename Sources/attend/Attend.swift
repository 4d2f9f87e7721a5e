import ArgumentParser
import Attend

@main
struct AttendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend",
        abstract: "The transformer attention mechanism, computed and explained.",
        subcommands: [AttentionCommand.self])
}
