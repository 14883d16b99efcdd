import OCPPRPC
import Yams

extension MappingFileParser {
    /// An error at the place of `node` in this file.
    func fail(_ node: Node?, _ reason: String) -> MappingError {
        MappingError(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, reason: reason)
    }

    /// Runs a compiler of one YAML value, giving its syntax errors the value's place.
    func compile<T>(_ node: Node, _ body: () throws(MappingSyntaxError) -> T) throws(MappingError) -> T {
        do {
            return try body()
        } catch {
            throw fail(node, error.reason)
        }
    }

    /// The name of a mapping key, which must be one of `allowed`.
    func keyName(_ key: Node, allowed: [String]) throws(MappingError) -> String {
        guard let name = key.scalar?.string, allowed.contains(name) else {
            let shown = key.scalar?.string ?? "?"
            throw fail(key, "unknown key '\(shown)' (expected one of \(allowed.joined(separator: ", ")))")
        }
        return name
    }

    /// The text of a scalar value.
    func string(_ node: Node, _ what: String) throws(MappingError) -> String {
        guard let scalar = node.scalar else { throw fail(node, "'\(what)' must be a single text value") }
        return scalar.string
    }

    /// A YAML scalar as a JSON value: quoted text is a string; plain `true`, `false`, `null`, `~`, integers and
    /// decimals are typed; anything else is a string.
    func literal(_ node: Node) throws(MappingError) -> JSONValue {
        guard let scalar = node.scalar else { throw fail(node, "expected a single value, not a list or mapping") }
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "null", "Null", "NULL", "~", "": return .null
        default: break
        }
        if let i = Int64(text) { return .int(i) }
        if text.contains(where: \.isNumber), let d = Double(text), d.isFinite { return .double(d) }
        return .string(text)
    }

    /// A Yams error as a mapping error with its line and column.
    func yamlError(_ error: YamlError, yaml: String) -> MappingError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let reason = context.map { "\($0.text), \(problem)" } ?? problem
            return MappingError(file: file, line: mark.line, column: mark.column, reason: "invalid YAML: \(reason)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return MappingError(
                file: file, line: context.mark.line, column: context.mark.column,
                reason: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))")
        case .reader(let problem, let offset, _, _):
            var line = 1
            var column = 1
            for character in yaml.prefix(offset ?? 0) {
                if character == "\n" { line += 1; column = 1 } else { column += 1 }
            }
            return MappingError(file: file, line: line, column: column, reason: "invalid YAML: \(problem)")
        default:
            return MappingError(file: file, line: 1, column: 1, reason: "invalid YAML: \(error)")
        }
    }
}
