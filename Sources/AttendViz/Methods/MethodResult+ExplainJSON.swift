// The JSON `attend explain --method M --format json` prints, built in one place so the CLI and the server's
// POST /v1/explain answer the same bytes.
import AttendNN
import Foundation

extension MethodResult {
    /// `attend explain --method M --format json`'s object: ``json`` plus `"model"` (the name the model was asked by)
    /// and, with a focus token, `"token": {"index", "row"}` (that query's row of the matrix).
    public func explainJSON(model: String, focus: Int?) -> JSONValue {
        guard case .object(var o) = json else { return json }
        o.append(("model", .string(model)))
        if let focus, focus >= 0, focus < matrix.count {
            o.append(("token", .object([("index", .int(focus)), ("row", .array(matrix[focus].map { .float($0) }))])))
        }
        return .object(o)
    }
}

extension ExplainMethods {
    /// With an explicit `--method raw`, the usual explain JSON (``ExplainJSON/make(trace:layer:head:focus:model:)``)
    /// also carries the keys every method's JSON has (`"method"`, `"matrix"`, `"query_tokens"`, `"key_tokens"`);
    /// without a method it is unchanged.
    public static func withMethodKeys(_ value: JSONValue, trace: ExplainTrace, layer: Int, head: Int) throws -> JSONValue {
        guard case .object(var o) = value,
              case .object(let m) = try result(.raw, trace: trace, layer: layer, head: head).json else { return value }
        for key in ["method", "matrix", "query_tokens", "key_tokens"] { if let v = m[key] { o.append((key, v)) } }
        return .object(o)
    }
}
