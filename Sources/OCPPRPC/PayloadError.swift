/// A payload that does not satisfy its message schema, with the JSON path of the offending field.
public struct PayloadError: RPCErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    /// Which kind of constraint was violated; decides the CALLERROR code.
    public enum Kind: Sendable, Hashable {
        /// Not an object, or a member that the schema does not allow.
        case formation
        /// A required field is missing.
        case occurrence
        /// A field has the wrong JSON type.
        case type
        /// A field has an invalid value (enumeration, length, format, range).
        case property
    }

    public var kind: Kind
    /// The JSON path of the field, e.g. `meterValue[0].sampledValue[1].value`; empty for the payload itself.
    public var path: String
    public var reason: String

    public init(_ kind: Kind, path: String, _ reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public func errorCode(for version: OCPPVersion) -> RPCErrorCode {
        switch kind {
        case .formation: return .formatViolation(for: version)
        case .occurrence: return .occurenceConstraintViolation
        case .type: return .typeConstraintViolation
        case .property: return .propertyConstraintViolation
        }
    }

    public var errorDescription: String { path.isEmpty ? reason : "\(path): \(reason)" }
    public var errorDetails: [String: JSONValue] { path.isEmpty ? [:] : ["field": .string(path)] }
    public var description: String { errorDescription }
}
