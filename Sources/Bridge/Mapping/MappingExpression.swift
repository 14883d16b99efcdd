import OCPPRPC

/// A compiled value expression: paths and quoted literals joined by `??` (the first present one wins).
///
/// Examples: `request.connectorId`, `request.chargePointSerialNumber ?? request.chargeBoxSerialNumber`,
/// `item.unit ?? 'Wh'`.
struct MappingExpression: Sendable, Hashable {
    enum Operand: Sendable, Hashable {
        case path(MappingPath)
        case literal(JSONValue)
    }

    var operands: [Operand]

    /// Parses an expression; a path listed in `defaults` gets its default appended as a fallback.
    init(
        parsing source: Substring, scope: MappingPath.Scope, defaults: [MappingPath: JSONValue] = [:]
    ) throws(MappingSyntaxError) {
        var operands: [Operand] = []
        var rest = source
        while true {
            let part: Substring
            if let range = rest.range(of: "??") {
                part = rest[..<range.lowerBound]
                rest = rest[range.upperBound...]
            } else {
                part = rest
                rest = ""
            }
            let text = part.trimmingSpaces
            if text.isEmpty {
                throw MappingSyntaxError("missing operand around '??' in '\(source.trimmingSpaces)'")
            }
            if text.hasPrefix("'") {
                guard text.count >= 2, text.hasSuffix("'"), !text.dropFirst().dropLast().contains("'") else {
                    throw MappingSyntaxError("unterminated quoted text \(text) in '\(source.trimmingSpaces)'")
                }
                operands.append(.literal(.string(String(text.dropFirst().dropLast()))))
            } else {
                let path = try MappingPath(parsing: Substring(text), scope: scope)
                operands.append(.path(path))
                if let fallback = defaults[path] { operands.append(.literal(fallback)) }
            }
            if rest.isEmpty && !source.hasSuffix("??") { break }
        }
        self.operands = operands
    }

    /// The first operand that is present, or nil.
    func evaluate(in scope: MappingScope) -> JSONValue? {
        for operand in operands {
            switch operand {
            case .literal(let value): return value
            case .path(let path): if let value = path.resolve(in: scope) { return value }
            }
        }
        return nil
    }
}

/// A compiled `when` condition: `PATH` (present), `!PATH` (absent), `PATH == literal`, `PATH != literal`.
struct MappingCondition: Sendable, Hashable {
    enum Test: Sendable, Hashable {
        case present
        case absent
        case equals(Literal)
        case notEquals(Literal)
    }

    /// The right-hand side of a comparison, readable as text, number and boolean at once.
    struct Literal: Sendable, Hashable {
        var text: String
        var number: Double?
        var bool: Bool?

        init(_ source: String) {
            let trimmed = source.trimmingSpaces
            if trimmed.count >= 2, let q = trimmed.first, q == "'" || q == "\"", trimmed.last == q {
                text = String(trimmed.dropFirst().dropLast())
                return
            }
            text = trimmed
            number = Double(trimmed).flatMap { $0.isFinite ? $0 : nil }
            bool = trimmed == "true" ? true : trimmed == "false" ? false : nil
        }

        func matches(_ value: JSONValue) -> Bool {
            switch value {
            case .string(let s): return s == text
            case .int, .double: return number != nil && value.doubleValue == number
            case .bool(let b): return bool == b
            default: return false
            }
        }
    }

    var expression: MappingExpression
    var test: Test

    /// Parses one condition.
    init(parsing source: String, scope: MappingPath.Scope, defaults: [MappingPath: JSONValue]) throws(MappingSyntaxError) {
        let text = source.trimmingSpaces
        if let range = text.range(of: "==") ?? text.range(of: "!=") {
            let right = text[range.upperBound...]
            guard !right.trimmingSpaces.isEmpty else { throw MappingSyntaxError("missing value after '\(text[range])' in '\(text)'") }
            expression = try MappingExpression(parsing: text[..<range.lowerBound], scope: scope, defaults: defaults)
            let literal = Literal(String(right))
            test = text[range] == "==" ? .equals(literal) : .notEquals(literal)
        } else if text.hasPrefix("!") {
            expression = try MappingExpression(parsing: text.dropFirst(), scope: scope, defaults: defaults)
            test = .absent
        } else {
            expression = try MappingExpression(parsing: Substring(text), scope: scope, defaults: defaults)
            test = .present
        }
    }

    /// Whether the condition holds; a comparison with a missing value is false, whichever the operator.
    func holds(in scope: MappingScope) -> Bool {
        let value = expression.evaluate(in: scope)
        switch test {
        case .present: return value != nil
        case .absent: return value == nil
        case .equals(let literal): return value.map(literal.matches) ?? false
        case .notEquals(let literal): return value.map { !literal.matches($0) } ?? false
        }
    }
}
