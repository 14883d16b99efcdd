import Foundation
import OCPPRPC

/// The conversion a rule's `type` key asks for; a value that cannot be converted produces no tag.
enum MappingValueType: String, Sendable, Hashable, CaseIterable {
    /// A decimal (`.double`): numbers, and numeric strings such as 1.6's sampled value `"1234.5"`.
    case number
    /// An integer: integers, integral decimals and integer strings.
    case integer
    /// A boolean: booleans, `"true"`/`"false"` (any case), and the integers 0 and 1.
    case bool
    /// A string: strings, and other scalars in their text form.
    case string
    /// An RFC 3339 time, normalised to UTC with `Z` (`OCPPDateTime`).
    case time

    /// Converts a value, or returns nil when it does not have this type.
    func convert(_ value: JSONValue) -> JSONValue? {
        switch self {
        case .number:
            if let d = value.doubleValue { return .double(d) }
            if case .string(let s) = value, let d = Double(s.trimmingSpaces), d.isFinite { return .double(d) }
            return nil
        case .integer:
            if let i = value.intValue { return .int(i) }
            guard case .string(let s) = value else { return nil }
            let text = s.trimmingSpaces
            if let i = Int64(text) { return .int(i) }
            return Double(text).flatMap { JSONValue.double($0).intValue }.map(JSONValue.int)
        case .bool:
            switch value {
            case .bool: return value
            case .int(0): return .bool(false)
            case .int(1): return .bool(true)
            case .string(let s):
                switch s.trimmingSpaces.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: return nil
                }
            default: return nil
            }
        case .string:
            switch value {
            case .string: return value
            case .array, .object: return .string(value.jsonText)
            default: return value.scalarText.map(JSONValue.string)
            }
        case .time:
            guard case .string(let s) = value, let date = OCPPDateTime.parse(s) else { return nil }
            return .string(OCPPDateTime.format(date))
        }
    }

    /// The value a rule without `type` produces: scalars unchanged, arrays and objects as JSON text.
    static func untyped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array, .object: return .string(value.jsonText)
        default: return value
        }
    }
}
