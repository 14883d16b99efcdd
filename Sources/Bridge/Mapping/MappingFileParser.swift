import OCPPRPC
import Yams

/// Reads one mapping file (YAML) into compiled rules, reporting problems with file, line and column.
struct MappingFileParser {
    /// The rules of one file, in file order, for the versions it names.
    struct Result {
        var versions: [OCPPVersion]
        var rules: [(action: String, rule: MappingRule)]
    }

    static let fileKeys = ["protocol", "messages"]
    static let ruleKeys = ["tag", "value", "const", "type", "unit", "each", "when", "defaults"]

    let file: String

    /// Parses the YAML text of the file.
    func parse(_ yaml: String) throws(MappingError) -> Result {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw yamlError(error, yaml: yaml)
        } catch {
            throw MappingError(file: file, line: 1, column: 1, reason: "invalid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw fail(root, "expected a mapping with the keys protocol and messages")
        }
        var versions: [OCPPVersion] = []
        var rules: [(action: String, rule: MappingRule)] = []
        var sawProtocol = false
        for (key, value) in top {
            switch try keyName(key, allowed: Self.fileKeys) {
            case "protocol":
                sawProtocol = true
                versions = try parseVersions(value)
            default:
                guard case .mapping(let messages) = value else {
                    throw fail(value, "'messages' must map action names to lists of rules")
                }
                for (actionNode, list) in messages {
                    guard let action = actionNode.scalar?.string, !action.isEmpty else {
                        throw fail(actionNode, "an action name must be a non-empty string")
                    }
                    guard case .sequence(let items) = list else {
                        throw fail(list, "the rules of '\(action)' must be a list")
                    }
                    for item in items { rules.append((action, try parseRule(item))) }
                }
            }
        }
        guard sawProtocol else { throw fail(root, "missing key 'protocol' (e.g. protocol: ocpp1.6)") }
        return Result(versions: versions, rules: rules)
    }

    private func parseVersions(_ node: Node) throws(MappingError) -> [OCPPVersion] {
        let items: [Node]
        if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
        guard !items.isEmpty else { throw fail(node, "'protocol' names no version") }
        var versions: [OCPPVersion] = []
        for item in items {
            guard let name = item.scalar?.string, let version = OCPPVersion(rawValue: name) else {
                let known = OCPPVersion.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(item, "unknown protocol '\(item.scalar?.string ?? "?")' (expected one of \(known))")
            }
            versions.append(version)
        }
        return versions
    }

    private func parseRule(_ node: Node) throws(MappingError) -> MappingRule {
        guard case .mapping(let mapping) = node else { throw fail(node, "a rule must be a mapping (tag, value, …)") }
        var fields: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping { fields[try keyName(key, allowed: Self.ruleKeys)] = (key, value) }
        var scope = MappingPath.Scope()
        var each: MappingPath?
        if let node = fields["each"]?.value {
            let text = try string(node, "each")
            scope.allowsWildcards = true
            let path = try compile(node) { () throws(MappingSyntaxError) in try MappingPath(parsing: Substring(text), scope: scope) }
            scope.allowsWildcards = false
            guard path.steps.last == .all else { throw fail(node, "an 'each' path must end with [*] ('\(text)')") }
            scope.eachLevels = path.wildcardCount
            each = path
        }
        var defaults: [MappingPath: JSONValue] = [:]
        if let node = fields["defaults"]?.value {
            guard case .mapping(let pairs) = node else { throw fail(node, "'defaults' must map paths to values") }
            for (key, value) in pairs {
                let text = try string(key, "a defaults key")
                let path = try compile(key) { () throws(MappingSyntaxError) in try MappingPath(parsing: Substring(text), scope: scope) }
                defaults[path] = try literal(value)
            }
        }
        guard let tagNode = fields["tag"]?.value else { throw fail(node, "a rule needs a 'tag' name template") }
        let tagText = try string(tagNode, "tag")
        let name = try compile(tagNode) { () throws(MappingSyntaxError) in
            try MappingTemplate(parsing: tagText, scope: scope, defaults: defaults)
        }
        var type: MappingValueType?
        if let node = fields["type"]?.value {
            let text = try string(node, "type")
            guard let parsed = MappingValueType(rawValue: text) else {
                let known = MappingValueType.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail(node, "unknown type '\(text)' (expected one of \(known))")
            }
            type = parsed
        }
        let source: MappingRule.Source
        switch (fields["value"]?.value, fields["const"]?.value) {
        case (let valueNode?, nil):
            let text = try string(valueNode, "value")
            source = .expression(try compile(valueNode) { () throws(MappingSyntaxError) in
                try MappingExpression(parsing: Substring(text), scope: scope, defaults: defaults)
            })
        case (nil, let constNode?):
            var constant = try literal(constNode)
            if let type, constant != .null {
                guard let converted = type.convert(constant) else {
                    throw fail(constNode, "const \(constant.jsonText) is not of type \(type.rawValue)")
                }
                constant = converted
            }
            source = .constant(constant)
        case (_?, let constNode?):
            throw fail(constNode, "a rule has either 'value' or 'const', not both")
        case (nil, nil):
            throw fail(node, "a rule needs 'value' (a path) or 'const' (a literal)")
        }
        var unit: MappingExpression?
        if let node = fields["unit"]?.value {
            let text = try string(node, "unit")
            unit = try compile(node) { () throws(MappingSyntaxError) in
                try MappingExpression(parsing: Substring(text), scope: scope, defaults: defaults)
            }
        }
        var conditions: [MappingCondition] = []
        if let node = fields["when"]?.value {
            let items: [Node] = if case .sequence(let list) = node { Array(list) } else { [node] }
            for item in items {
                let text = try string(item, "when")
                conditions.append(try compile(item) { () throws(MappingSyntaxError) in
                    try MappingCondition(parsing: text, scope: scope, defaults: defaults)
                })
            }
        }
        return MappingRule(name: name, source: source, type: type, unit: unit, each: each, conditions: conditions)
    }
}
