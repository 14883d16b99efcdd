/// A schema constraint on a value that already has the right JSON type.
package enum Constraint: Sendable {
    /// A string of at most this many characters (Unicode scalars, as JSON Schema counts them).
    case maxLength(Int)
    /// An array with at least this many elements.
    case minItems(Int)
    /// An array with at most this many elements.
    case maxItems(Int)
    /// A number no smaller than this.
    case minimum(Double)
    /// A number no larger than this.
    case maximum(Double)
    /// A number that is a multiple of this.
    case multipleOf(Double)
    /// A string that is one of these values (listed in schema order).
    case oneOf([String])

    /// Checks the constraint on the values that `pattern` reaches from `json` (at `path`); missing or null
    /// members and values of another type are skipped, since decoding has already reported those.
    func check(_ json: JSONValue, path: String, along pattern: ArraySlice<String>) throws(PayloadError) {
        guard let step = pattern.first else {
            try check(json, path: path)
            return
        }
        let rest = pattern.dropFirst()
        if step == "[]" {
            guard case .array(let elements) = json else { return }
            for (index, element) in elements.enumerated() {
                try check(element, path: "\(path)[\(index)]", along: rest)
            }
        } else {
            guard let member = json[step], member != .null else { return }
            try check(member, path: path.isEmpty ? step : "\(path).\(step)", along: rest)
        }
    }

    /// Checks the constraint on one value.
    func check(_ value: JSONValue, path: String) throws(PayloadError) {
        if let reason = violation(by: value) {
            throw PayloadError(.property, path: path, reason)
        }
    }

    /// Why `value` violates the constraint, or nil if it does not.
    func violation(by value: JSONValue) -> String? {
        switch (self, value) {
        case (.maxLength(let limit), .string(let text)):
            return text.unicodeScalars.count > limit ? "longer than \(limit) characters" : nil
        case (.minItems(let limit), .array(let elements)):
            return elements.count < limit ? "has \(elements.count) items, fewer than \(limit)" : nil
        case (.maxItems(let limit), .array(let elements)):
            return elements.count > limit ? "has \(elements.count) items, more than \(limit)" : nil
        case (.minimum(let limit), _):
            guard let number = value.doubleValue else { return nil }
            return number < limit ? "\(value) is less than \(limit)" : nil
        case (.maximum(let limit), _):
            guard let number = value.doubleValue else { return nil }
            return number > limit ? "\(value) is greater than \(limit)" : nil
        case (.multipleOf(let step), _):
            guard let number = value.doubleValue else { return nil }
            let quotient = number / step
            let tolerance = 1e-9 * max(1, abs(quotient))
            return abs(quotient - quotient.rounded()) > tolerance ? "\(value) is not a multiple of \(step)" : nil
        case (.oneOf(let allowed), .string(let text)):
            return allowed.contains(text) ? nil : "'\(text)' is not one of \(allowed.joined(separator: ", "))"
        default:
            return nil
        }
    }
}
