/// Reads the members of one JSON object of a payload, reporting errors under the object's JSON path.
///
/// Unknown members are ignored (real chargers add vendor fields); JSON `null` counts as absent.
package struct ObjectReader {
    /// The members of the object.
    let members: [String: JSONValue]
    /// The JSON path of the object; empty for the payload itself.
    let path: String

    /// Starts reading `json`, which must be an object.
    package init(_ json: JSONValue, path: String) throws(PayloadError) {
        guard case .object(let members) = json else {
            throw PayloadError(.formation, path: path, "expected an object, got \(json.typeName)")
        }
        self.members = members
        self.path = path
    }

    /// The JSON path of the member `key`.
    func path(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Reads a required member; a missing or null member is an occurrence violation.
    package func required<Value: JSONField>(_ key: String) throws(PayloadError) -> Value {
        guard let value = members[key] else {
            throw PayloadError(.occurrence, path: path(key), "required field is missing")
        }
        if value == .null {
            throw PayloadError(.occurrence, path: path(key), "required field is null")
        }
        return try Value(json: value, path: path(key))
    }

    /// Reads an optional member; absent or null gives nil.
    package func optional<Value: JSONField>(_ key: String) throws(PayloadError) -> Value? {
        guard let value = members[key], value != .null else { return nil }
        return try Value(json: value, path: path(key))
    }

    /// Checks `constraint` on every value reached by `pattern` (member names, `[]` for each array element).
    package func check(_ pattern: [String], _ constraint: Constraint) throws(PayloadError) {
        try constraint.check(.object(members), path: path, along: pattern[...])
    }
}

extension ObjectReader {
    /// Reads an OCPP 2.0.1 `customData` member: any JSON object, kept as it is; absent or null gives nil.
    package func customData(_ key: String) throws(PayloadError) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        guard case .object = value else {
            throw PayloadError(.type, path: path(key), "expected object, got \(value.typeName)")
        }
        return value
    }

    /// Reads a member the schema leaves untyped (DataTransfer's `data`); absent or null gives nil.
    package func anyValue(_ key: String) throws(PayloadError) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }
}
