import OCPPRPC

/// A compiled path such as `request.meterValue[0].timestamp`, `extra.connectorId` or `item.phase`.
struct MappingPath: Sendable, Hashable, CustomStringConvertible {
    /// Where a path starts.
    enum Root: String, Sendable, Hashable, CaseIterable {
        case request, response, extra, cp, now, item, parent
    }

    /// One step below the root.
    enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
        /// `[*]`: every element of an array; only in `each` paths.
        case all
    }

    var root: Root
    var steps: [Step]

    /// What the iteration of the rule being compiled makes available to its paths.
    struct Scope {
        /// How many `[*]` levels the rule's `each` path has (0 without `each`).
        var eachLevels = 0
        /// Whether `[*]` may appear (only in the `each` path itself).
        var allowsWildcards = false
    }

    /// Parses and checks a path.
    init(parsing source: Substring, scope: Scope) throws(MappingSyntaxError) {
        let text = source.trimmingSpaces
        let chars = Array(text.utf8)
        var index = 0
        func identifier() -> String? {
            let start = index
            while index < chars.count, chars[index].isIdentifierByte { index += 1 }
            return index > start ? String(decoding: chars[start..<index], as: UTF8.self) : nil
        }
        guard let rootName = identifier() else {
            throw MappingSyntaxError(text.isEmpty ? "empty path" : "path '\(text)' must start with a name")
        }
        guard let root = Root(rawValue: rootName) else {
            let roots = Root.allCases.map(\.rawValue).joined(separator: ", ")
            throw MappingSyntaxError("unknown path root '\(rootName)' in '\(text)' (expected one of \(roots))")
        }
        var steps: [Step] = []
        while index < chars.count {
            if chars[index] == UInt8(ascii: ".") {
                index += 1
                guard let name = identifier() else { throw MappingSyntaxError("missing field name after '.' in '\(text)'") }
                steps.append(.key(name))
            } else if chars[index] == UInt8(ascii: "[") {
                guard let close = chars[index...].firstIndex(of: UInt8(ascii: "]")) else {
                    throw MappingSyntaxError("unclosed '[' in path '\(text)'")
                }
                let inner = String(decoding: chars[(index + 1)..<close], as: UTF8.self)
                if inner == "*" {
                    steps.append(.all)
                } else if let n = Int(inner), n >= 0 {
                    steps.append(.index(n))
                } else {
                    throw MappingSyntaxError("'[\(inner)]' in path '\(text)' is neither an index nor [*]")
                }
                index = close + 1
            } else {
                let c = Character(Unicode.Scalar(chars[index]))
                throw MappingSyntaxError("unexpected character '\(c)' in path '\(text)'")
            }
        }
        self.root = root
        self.steps = steps
        try check(text: text, scope: scope)
    }

    private func check(text: String, scope: Scope) throws(MappingSyntaxError) {
        switch root {
        case .cp, .now:
            guard steps.isEmpty else { throw MappingSyntaxError("'\(root.rawValue)' has no fields ('\(text)')") }
        case .extra:
            guard case .key = steps.first else {
                throw MappingSyntaxError("'extra' needs a field name, e.g. 'extra.connectorId' ('\(text)')")
            }
        case .item:
            guard scope.eachLevels >= 1 else { throw MappingSyntaxError("'item' is only available in a rule with 'each'") }
        case .parent:
            guard scope.eachLevels >= 2 else {
                throw MappingSyntaxError("'parent' is only available when 'each' has two [*] levels")
            }
        case .request, .response:
            break
        }
        if !scope.allowsWildcards, steps.contains(.all) {
            throw MappingSyntaxError("[*] is only allowed in 'each' ('\(text)')")
        }
    }

    var wildcardCount: Int { steps.reduce(0) { $1 == .all ? $0 + 1 : $0 } }

    var description: String {
        var out = root.rawValue
        for step in steps {
            switch step {
            case .key(let k): out += ".\(k)"
            case .index(let i): out += "[\(i)]"
            case .all: out += "[*]"
            }
        }
        return out
    }

    /// The value at this path, or nil when any part is missing or the value is null.
    func resolve(in scope: MappingScope) -> JSONValue? {
        resolve(in: scope, stepCount: steps.count)
    }

    /// The value reached by the first `stepCount` steps, or nil when missing or null.
    func resolve(in scope: MappingScope, stepCount: Int) -> JSONValue? {
        var value: JSONValue
        var rest = steps[..<stepCount]
        switch root {
        case .cp: return .string(scope.context.chargePointId)
        case .now: return .string(scope.context.nowText)
        case .request: value = scope.context.request
        case .response:
            guard let response = scope.context.response else { return nil }
            value = response
        case .extra:
            guard case .key(let name)? = rest.popFirst(), let found = scope.context.extra[name] else { return nil }
            value = found
        case .item:
            guard let item = scope.item else { return nil }
            value = item
        case .parent:
            guard let parent = scope.parent else { return nil }
            value = parent
        }
        for step in rest {
            guard let next = Self.step(value, step) else { return nil }
            value = next
        }
        if value == .null { return .none }  // not `? nil :`: JSONValue is ExpressibleByNilLiteral
        return value
    }

    static func step(_ value: JSONValue, _ step: Step) -> JSONValue? {
        switch step {
        case .key(let k): return value[k]
        case .index(let i):
            guard case .array(let elements) = value, i < elements.count else { return nil }
            return elements[i]
        case .all: return nil
        }
    }

    /// Calls `body(item, parent)` for every element the `[*]` steps of this `each` path reach.
    func forEachElement(in context: MappingContext, _ body: (JSONValue, JSONValue?) -> Void) {
        let firstWildcard = steps.firstIndex(of: .all) ?? steps.count
        guard let base = resolve(in: MappingScope(context: context), stepCount: firstWildcard) else { return }
        func walk(_ value: JSONValue, _ at: Int, _ item: JSONValue?, _ parent: JSONValue?) {
            if at == steps.count {
                if let item { body(item, parent) }
                return
            }
            if steps[at] == .all {
                guard case .array(let elements) = value else { return }
                for element in elements where element != .null { walk(element, at + 1, element, item) }
            } else if let next = Self.step(value, steps[at]) {
                walk(next, at + 1, item, parent)
            }
        }
        walk(base, firstWildcard, nil, nil)
    }
}

/// The values visible to one evaluation of a rule: the message context and, inside `each`, the elements.
struct MappingScope {
    var context: MappingContext
    var item: JSONValue?
    var parent: JSONValue?
}

extension UInt8 {
    var isIdentifierByte: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "_")
            || self == UInt8(ascii: "-")
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
