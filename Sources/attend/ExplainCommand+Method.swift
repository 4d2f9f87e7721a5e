import ArgumentParser
import Attend
import Foundation

extension ExplainMethod: ExpressibleByArgument {}

extension ExplainCommand {
    /// Options that only make sense together, checked before the model loads.
    func checkMethodOptions() throws {
        if target != nil && targetToken != nil { throw CLIError("give --target or --target-token, not both") }
        if method != .some(.gradAttention) && (target != nil || targetToken != nil) {
            throw CLIError("--target and --target-token belong to --method grad-attention")
        }
        if method == .some(.gradAttention) && target == nil && targetToken == nil {
            throw CLIError("--method grad-attention explains one output: give --target \"another sentence\" (sentence encoders) or --target-token TOKEN (decoders)")
        }
    }

    /// The layer shown without `--layer`: the last one, except that rollout, flow and grad-attention compose
    /// self-attention layers, so for a model whose last site is cross-attention (the translator) they default to
    /// its last decoder self-attention layer.
    func defaultLayer(_ sites: [AttentionSite]) -> Int {
        guard let method, [.rollout, .flow, .gradAttention].contains(method), sites.last?.kind == .crossAttention,
              let last = sites.lastIndex(where: { $0.kind != .crossAttention }) else { return sites.count - 1 }
        return last
    }

    /// With an explicit `--method raw`, the usual JSON also carries the keys every method's JSON has
    /// (`"method"`, `"matrix"`, `"query_tokens"`, `"key_tokens"`); without `--method` it is unchanged.
    static func withMethodKeys(_ value: JSONValue, trace: ExplainTrace, layer: Int, head: Int) throws -> JSONValue {
        guard case .object(var o) = value,
              case .object(let m) = try ExplainMethods.result(.raw, trace: trace, layer: layer, head: head).json else { return value }
        for key in ["method", "matrix", "query_tokens", "key_tokens"] { if let v = m[key] { o.append((key, v)) } }
        return .object(o)
    }

    /// `--method` other than raw: the method's matrix in the chosen format.
    func runMethod(trace: ExplainTrace, loaded: LoadedModel, source: ExplainModel, layer: Int, head: Int?, focus: Int?,
                   format: String) throws {
        let gradientTarget: GradientTarget? = target.map { .similarity(to: $0) } ?? targetToken.map { .nextToken($0) }
        let method = self.method ?? .raw
        let start = Date()
        let result: MethodResult
        do {
            result = try ExplainMethods.result(method, trace: trace, layer: layer, head: head, model: loaded.model,
                                               text: sentence, target: gradientTarget)
        } catch let e as VizError {
            throw CLIError("\(e)")
        } catch {
            throw CLIError("\(error)")
        }
        let seconds = Date().timeIntervalSince(start)
        if method == .gradAttention && seconds > 1 {
            Terminal.printWarning(String(format: "grad-attention took %.1f s: it runs the model forward and backward on Attend's autograd (the reference path), not the fast kernels", seconds))
        }
        let view = MatrixView(result, model: source.name, text: sentence, layerLabel: trace.layers[layer].label)
        switch format {
        case "json":
            guard case .object(var o) = result.json else { return }
            o.append(("model", .string(source.name)))
            if let focus { o.append(("token", .object([("index", .int(focus)), ("row", .array(result.matrix[focus].map { .float($0) }))]))) }
            try ExplainOutput.emit(JSONValue.object(o).rendered() + "\n", to: out, defaultName: nil, describe: "JSON")
        case "svg":
            try ExplainOutput.emit(view.svg(), to: out, defaultName: "attend-explain.svg",
                                   describe: "\(method.rawValue) heatmap SVG of \(source.name)")
        case "html":
            let tables = focus.map { f in [("row of “\(result.queryTokens[f])”", Array(zip(result.keyTokens, result.matrix[f].map(Double.init))))] } ?? []
            try ExplainOutput.emit(view.html(tables: tables), to: out, defaultName: "attend-explain.html",
                                   describe: "\(method.rawValue) page of \(source.name)")
        default:
            let color: TerminalColor = out == nil && Terminal.useColor ? .detect() : .none
            var text = "model \(source.name) (\(source.note))\n" + view.text(color: color)
            if let t = result.target { text += "  y: \(t)\n" }
            if let f = focus { text += "\n" + Self.describeRow(result, row: f) + "\n" }
            try ExplainOutput.emit(text, to: out, defaultName: nil, describe: "text")
        }
    }

    /// The focus row in words: its five largest entries.
    static func describeRow(_ r: MethodResult, row f: Int) -> String {
        let row = r.matrix[f]
        let top = row.indices.sorted { row[$0] > row[$1] }.prefix(5)
        let list = top.map { "“\(r.keyTokens[$0])” \(VizFormat.number(row[$0], decimals: 3))" }.joined(separator: ", ")
        let what: String
        switch r.method {
        case .raw: what = "gives its attention to"
        case .rollout: what = "after layer \(r.layer ?? 0), by rollout, is made of"
        case .flow: what = "after layer \(r.layer ?? 0), can receive a flow from"
        case .valueNorm: what = "is moved most (‖α·f(x)‖) by"
        case .gradAttention: what = "draws relevance (R, diagonal included) from"
        }
        return "“\(r.queryTokens[f])” (token \(f)) \(what) \(list)"
    }
}
