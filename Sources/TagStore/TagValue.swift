import GRDB

/// A tag's value: one of the types a tag can hold in the database.
public enum TagValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)

    /// The name of the value's type as stored in the `type` column: "null", "bool", "int", "double" or "string".
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string: "string"
        }
    }

    /// The value as SQLite stores it (bools as 0 or 1; NaN, which SQLite cannot store, as NULL).
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .bool(let value): (value ? 1 : 0 as Int64).databaseValue
        case .int(let value): value.databaseValue
        case .double(let value): value.isNaN ? .null : value.databaseValue
        case .string(let value): value.databaseValue
        }
    }

    /// The value the database will hold for this one (NaN becomes `.null`).
    var normalized: TagValue {
        if case .double(let value) = self, value.isNaN { return .null }
        return self
    }

    /// Decodes a stored value, using the `type` column to tell bools from integers.
    init(databaseValue: DatabaseValue, typeName: String?) {
        switch databaseValue.storage {
        case .null:
            self = .null
        case .int64(let value):
            switch typeName {
            case "bool": self = .bool(value != 0)
            case "double": self = .double(Double(value))
            default: self = .int(value)
            }
        case .double(let value):
            self = .double(value)
        case .string(let value):
            self = .string(value)
        case .blob(let data):
            self = .string(String(decoding: data, as: UTF8.self))
        }
    }
}

extension TagValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral
{
    /// Creates a bool value from a literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Creates an integer value from a literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// Creates a double value from a literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Creates a string value from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
}
