// The markup, styles and script of the HTML views live as plain files in Resources/ (report.html, attend.css,
// attend.js), so a server can hand them out as they are and an editor shows them as HTML, CSS and JavaScript.
// The standalone report (HTMLReport) inlines them into one file. Plain JavaScript, no libraries, no network.
// Test hook: `window.__attendTest` (canvas checksums, state); with `#selftest` in the URL the page clicks a head
// chip and a model-view cell itself and writes the result into `<pre id="attend-selftest">`.
import Foundation

/// A resource file of AttendViz that could not be read (a broken install: the resource bundle is missing).
public struct VizResourceError: Error, CustomStringConvertible, Equatable {
    public var name: String
    public var description: String {
        "AttendViz resource \(name) is missing: the resource bundle Attend_AttendViz.resources must sit beside the executable"
    }
}

/// The web files of AttendViz, byte for byte as they are in `Sources/AttendViz/Resources/`.
public enum VizResources {
    /// Every resource, by name.
    public static let names = ["attend.css", "attend.js", "report.html", "explorer.html", "explorer.js", "explorer.css"]
        + explorerViews + playgroundExamples
    /// The files a server hands out as they are (report.html is a template with placeholders, so it is not one).
    public static let servedNames = ["explorer.html", "explorer.js", "explorer.css", "attend.css"] + explorerViews + playgroundExamples
    /// Scripts the explorer page loads after explorer.js, each adding views over its shared state.
    public static let explorerViews = [
        "explorer-explain.js",   // the flow diagram and the similarity explanation
        "explorer-search.js",    // the corpus panel: a soft lookup over an index
        "explorer-generate.js",  // a language model writing, with the attention of each new token
    ]
    /// The explorer playground's starting problems: the tutorial examples of ../shared/seeds/examples, copied as they are.
    public static let playgroundExamples = ["numpy-example.json", "hello-world-score-matrix.json", "hello-world-step2.json"]

    /// The content type of a resource, from its extension.
    public static func contentType(of name: String) -> String {
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".json") { return "application/json" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        return "text/html; charset=utf-8"
    }

    /// The bytes of resource `name` (one of `names`), read once and kept.
    public static func data(_ name: String) throws -> Data {
        guard names.contains(name) else { throw VizResourceError(name: name) }
        if let cached = cache.withLock({ $0[name] }) { return cached }
        let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources")
            ?? Bundle.module.bundleURL.appendingPathComponent("Resources").appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url) else { throw VizResourceError(name: name) }
        cache.withLock { $0[name] = data }
        return data
    }

    /// Resource `name` as text.
    public static func text(_ name: String) throws -> String { String(decoding: try data(name), as: UTF8.self) }

    private static let cache = LockedBox<[String: Data]>([:])
}

/// A small lock around a value (Foundation's NSLock; no Synchronization import needed on older macOS).
final class LockedBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

enum HTMLPage {
    /// Fills `{{name}}` placeholders of `template` in one pass, so a value that itself contains `{{…}}` (a user's
    /// sentence, say) is never expanded. An unknown name is left as it is.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        out.reserveCapacity(template.utf8.count + values.values.reduce(0) { $0 + $1.utf8.count })
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = String(rest[open.upperBound..<close.lowerBound])
            if let value = values[name] { out += value } else { out += rest[open.lowerBound..<close.upperBound] }
            rest = rest[close.upperBound...]
        }
        out += rest
        return out
    }

    /// A resource without its final newline (the files end with one; the inlined page does not repeat it).
    static func inlined(_ name: String) throws -> String {
        var text = try VizResources.text(name)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The standalone page: `report.html` with the styles, script and data inlined. `model`, `text` and `title`
    /// arrive XML-escaped; `data` is JSON that cannot close its `<script>` element.
    static func render(title: String, model: String, text: String, meta: String, data: String) throws -> String {
        try fill(VizResources.text("report.html"), [
            "title": title, "model": model, "text": text, "meta": meta, "data": data,
            "attend.css": try inlined("attend.css"), "attend.js": try inlined("attend.js"),
        ])
    }

    /// The line under the sentence: token and layer counts.
    static func meta(tokenCount: Int, layers: Int, truncated: Bool) -> String {
        "\(tokenCount) tokens · \(layers) attention layer\(layers == 1 ? "" : "s")\(truncated ? " · input cut to the model's limit" : "") · layers and heads count from 0"
    }
}
