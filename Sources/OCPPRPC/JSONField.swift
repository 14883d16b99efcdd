import Foundation

/// A value that can be read from and written to one field of a JSON payload: the scalars, dates and arrays
/// below and the types generated into OCPP16 and OCPP201, which share this one definition within the package.
///
/// Reading checks only the JSON type (and, for dates, the format); the generated payload types check the
/// remaining schema constraints (lengths, enumerations, item counts, multiples) with ``Constraint``.
package protocol JSONField: Sendable {
    /// Reads the value of the field at `path`.
    init(json: JSONValue, path: String) throws(PayloadError)
    /// The value as JSON.
    var json: JSONValue { get }
}

extension Int: JSONField {
    /// Accepts JSON integers and numbers without a fractional part (`1.0`), which real chargers send.
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard let value = json.intValue, let int = Int(exactly: value) else {
            throw PayloadError(.type, path: path, "expected integer, got \(json.typeName)")
        }
        self = int
    }

    package var json: JSONValue { .int(Int64(self)) }
}

extension Double: JSONField {
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard let value = json.doubleValue else {
            throw PayloadError(.type, path: path, "expected number, got \(json.typeName)")
        }
        self = value
    }

    package var json: JSONValue { .double(self) }
}

extension String: JSONField {
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard case .string(let value) = json else {
            throw PayloadError(.type, path: path, "expected string, got \(json.typeName)")
        }
        self = value
    }

    package var json: JSONValue { .string(self) }
}

extension Bool: JSONField {
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard case .bool(let value) = json else {
            throw PayloadError(.type, path: path, "expected boolean, got \(json.typeName)")
        }
        self = value
    }

    package var json: JSONValue { .bool(self) }
}

extension Date: JSONField {
    /// Reads an RFC 3339 date-time with ``OCPPDateTime/parse(_:)``; writes UTC with `Z`.
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard case .string(let text) = json else {
            throw PayloadError(.type, path: path, "expected date-time string, got \(json.typeName)")
        }
        guard let date = OCPPDateTime.parse(text) else {
            throw PayloadError(.property, path: path, "'\(text)' is not a valid date-time")
        }
        self = date
    }

    package var json: JSONValue { .string(OCPPDateTime.format(self)) }
}

extension Array: JSONField where Element: JSONField {
    package init(json: JSONValue, path: String) throws(PayloadError) {
        guard case .array(let elements) = json else {
            throw PayloadError(.type, path: path, "expected array, got \(json.typeName)")
        }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            result.append(try Element(json: element, path: "\(path)[\(index)]"))
        }
        self = result
    }

    package var json: JSONValue { .array(map(\.json)) }
}
