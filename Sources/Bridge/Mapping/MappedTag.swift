import OCPPRPC

/// One tag value that a mapping rule derived from an OCPP message.
public struct MappedTag: Sendable, Hashable, CustomStringConvertible {
    /// The dot-separated tag name, e.g. `CP1.Connector1.Status`.
    public var name: String
    /// The value: a scalar (bool, int, double, string) or null.
    public var value: JSONValue
    /// The unit kept as tag metadata (e.g. `Wh`), where the rule gives one.
    public var unit: String?

    /// Creates a mapped tag.
    public init(name: String, value: JSONValue, unit: String? = nil) {
        self.name = name
        self.value = value
        self.unit = unit
    }

    public var description: String {
        unit.map { "\(name) = \(value.jsonText) [\($0)]" } ?? "\(name) = \(value.jsonText)"
    }
}
