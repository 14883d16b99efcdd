import OCPPRPC

/// One compiled rule of a mapping file: how one field (or one field per array element) becomes a tag.
struct MappingRule: Sendable, Hashable {
    /// Where the value comes from.
    enum Source: Sendable, Hashable {
        /// `value: EXPRESSION`.
        case expression(MappingExpression)
        /// `const: LITERAL`.
        case constant(JSONValue)
    }

    var name: MappingTemplate
    var source: Source
    var type: MappingValueType?
    var unit: MappingExpression?
    /// The `each` path; every element its last `[*]` reaches is `item`, the element one level up `parent`.
    var each: MappingPath?
    /// All must hold (`when`).
    var conditions: [MappingCondition]

    /// Appends the tags this rule derives from `context` to `tags`.
    func apply(to context: MappingContext, into tags: inout [MappedTag]) {
        if let each {
            each.forEachElement(in: context) { item, parent in
                apply(in: MappingScope(context: context, item: item, parent: parent), into: &tags)
            }
        } else {
            apply(in: MappingScope(context: context), into: &tags)
        }
    }

    private func apply(in scope: MappingScope, into tags: inout [MappedTag]) {
        for condition in conditions where !condition.holds(in: scope) { return }
        let value: JSONValue
        switch source {
        case .constant(let constant):
            value = constant
        case .expression(let expression):
            guard let raw = expression.evaluate(in: scope) else { return }
            if let type {
                guard let converted = type.convert(raw) else { return }
                value = converted
            } else {
                value = MappingValueType.untyped(raw)
            }
        }
        guard let name = name.render(in: scope) else { return }
        let unit = unit.flatMap { $0.evaluate(in: scope)?.scalarText }
        tags.append(MappedTag(name: name, value: value, unit: unit))
    }
}
