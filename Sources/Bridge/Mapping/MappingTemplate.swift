import OCPPRPC

/// A compiled tag name template such as `{cp}.Connector{request.connectorId}.Meter.{item.measurand}[.{item.phase}]`.
///
/// `{expression}` inserts a value (the tag is skipped when it is missing); `[...]` is an optional segment,
/// left out when any expression inside it is missing. `{`, `}`, `[` and `]` are reserved.
struct MappingTemplate: Sendable, Hashable {
    enum Part: Sendable, Hashable {
        case text(String)
        case expression(MappingExpression)
        case optional([Part])
    }

    var parts: [Part]

    /// Parses a template.
    init(parsing source: String, scope: MappingPath.Scope, defaults: [MappingPath: JSONValue]) throws(MappingSyntaxError) {
        var parts: [Part] = []
        var group: [Part]?
        var text = ""
        var index = source.startIndex
        func flushText() {
            guard !text.isEmpty else { return }
            if group != nil { group!.append(.text(text)) } else { parts.append(.text(text)) }
            text = ""
        }
        while index < source.endIndex {
            let c = source[index]
            switch c {
            case "{":
                guard let close = source[index...].firstIndex(of: "}") else {
                    throw MappingSyntaxError("unclosed '{' in template '\(source)'")
                }
                let inner = source[source.index(after: index)..<close]
                if inner.contains("{") {
                    throw MappingSyntaxError("unexpected '{' inside '{\(inner)}' in template '\(source)'")
                }
                flushText()
                let expression = try MappingExpression(parsing: inner, scope: scope, defaults: defaults)
                if group != nil { group!.append(.expression(expression)) } else { parts.append(.expression(expression)) }
                index = source.index(after: close)
                continue
            case "}":
                throw MappingSyntaxError("unmatched '}' in template '\(source)'")
            case "[":
                guard group == nil else { throw MappingSyntaxError("optional segments cannot be nested in '\(source)'") }
                flushText()
                group = []
            case "]":
                guard let inner = group else { throw MappingSyntaxError("unmatched ']' in template '\(source)'") }
                flushText()
                guard inner.contains(where: { if case .expression = $0 { true } else { false } }) else {
                    throw MappingSyntaxError("optional segment without a {…} value in template '\(source)'")
                }
                parts.append(.optional(inner))
                group = nil
            default:
                text.append(c)
            }
            index = source.index(after: index)
        }
        guard group == nil else { throw MappingSyntaxError("unclosed '[' in template '\(source)'") }
        flushText()
        guard !parts.isEmpty else { throw MappingSyntaxError("empty tag name template") }
        self.parts = parts
    }

    /// The rendered name, or nil when a required value is missing.
    func render(in scope: MappingScope) -> String? {
        var out = ""
        return Self.append(parts, in: scope, to: &out) ? out : nil
    }

    private static func append(_ parts: [Part], in scope: MappingScope, to out: inout String) -> Bool {
        for part in parts {
            switch part {
            case .text(let text):
                out += text
            case .expression(let expression):
                guard let value = expression.evaluate(in: scope), let text = value.scalarText else { return false }
                out += text
            case .optional(let inner):
                var segment = ""
                if append(inner, in: scope, to: &segment) { out += segment }
            }
        }
        return true
    }
}

extension JSONValue {
    /// The value as text for a tag name or unit: strings as they are, numbers in decimal, nil otherwise.
    var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d):
            guard d.isFinite else { return nil }
            return d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }
}
