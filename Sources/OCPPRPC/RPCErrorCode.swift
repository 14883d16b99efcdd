/// An OCPP-J CALLERROR code. Open, so that codes a peer invents round-trip unchanged.
///
/// Each version keeps its own spelling: 1.6 says `FormationViolation`, 2.0.1 `FormatViolation`;
/// both say `OccurenceConstraintViolation` (one r).
public struct RPCErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The requested action is not known.
    public static let notImplemented = RPCErrorCode(rawValue: "NotImplemented")
    /// The requested action is known but not supported.
    public static let notSupported = RPCErrorCode(rawValue: "NotSupported")
    /// An internal error prevented the receiver from processing the action.
    public static let internalError = RPCErrorCode(rawValue: "InternalError")
    /// The payload for the action is incomplete.
    public static let protocolError = RPCErrorCode(rawValue: "ProtocolError")
    /// A security issue prevented the receiver from completing the action.
    public static let securityError = RPCErrorCode(rawValue: "SecurityError")
    /// OCPP 1.6: the payload is syntactically incorrect or does not conform to the PDU structure.
    public static let formationViolation = RPCErrorCode(rawValue: "FormationViolation")
    /// OCPP 2.0.1: the payload is syntactically incorrect or does not conform to the PDU structure.
    public static let formatViolation = RPCErrorCode(rawValue: "FormatViolation")
    /// A field contains an invalid value.
    public static let propertyConstraintViolation = RPCErrorCode(rawValue: "PropertyConstraintViolation")
    /// A field violates occurrence constraints (spelled with one r, as in the specifications).
    public static let occurenceConstraintViolation = RPCErrorCode(rawValue: "OccurenceConstraintViolation")
    /// A field violates data type constraints.
    public static let typeConstraintViolation = RPCErrorCode(rawValue: "TypeConstraintViolation")
    /// Any other error.
    public static let genericError = RPCErrorCode(rawValue: "GenericError")
    /// OCPP 2.0.1: the content of the call is not a valid RPC request.
    public static let rpcFrameworkError = RPCErrorCode(rawValue: "RpcFrameworkError")
    /// OCPP 2.0.1: a message with an unknown message type id was received.
    public static let messageTypeNotSupported = RPCErrorCode(rawValue: "MessageTypeNotSupported")

    /// The "malformed payload" code in the spelling of `version`.
    public static func formatViolation(for version: OCPPVersion) -> RPCErrorCode {
        version == .v16 ? .formationViolation : .formatViolation
    }

    /// The codes a peer speaking `version` may legally receive.
    public static func allowed(in version: OCPPVersion) -> Set<RPCErrorCode> {
        let common: Set<RPCErrorCode> = [
            .notImplemented, .notSupported, .internalError, .protocolError, .securityError,
            .propertyConstraintViolation, .occurenceConstraintViolation, .typeConstraintViolation, .genericError,
        ]
        switch version {
        case .v16: return common.union([.formationViolation])
        case .v201: return common.union([.formatViolation, .rpcFrameworkError, .messageTypeNotSupported])
        }
    }
}

/// An error that knows which CALLERROR it becomes on the wire.
public protocol RPCErrorConvertible: Error {
    /// The CALLERROR code for a peer speaking `version`.
    func errorCode(for version: OCPPVersion) -> RPCErrorCode
    /// The human-readable description sent in the CALLERROR.
    var errorDescription: String { get }
    /// The error details object sent in the CALLERROR.
    var errorDetails: [String: JSONValue] { get }
}

extension RPCErrorConvertible {
    public var errorDetails: [String: JSONValue] { [:] }
}

/// A CALLERROR to send or that was received: code, description and details.
public struct RPCError: RPCErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    public var code: RPCErrorCode
    public var errorDescription: String
    public var errorDetails: [String: JSONValue]

    public init(_ code: RPCErrorCode, _ description: String = "", details: [String: JSONValue] = [:]) {
        self.code = code
        self.errorDescription = description
        self.errorDetails = details
    }

    public func errorCode(for version: OCPPVersion) -> RPCErrorCode {
        // Translate the one code whose spelling differs between versions.
        switch (code, version) {
        case (.formatViolation, .v16), (.formationViolation, .v201): return .formatViolation(for: version)
        default: return code
        }
    }

    public var description: String { "\(code.rawValue): \(errorDescription)" }
}

extension RPCError {
    /// The CALLERROR that `error` becomes for a peer speaking `version`.
    public init(_ error: some RPCErrorConvertible, version: OCPPVersion) {
        self.init(error.errorCode(for: version), error.errorDescription, details: error.errorDetails)
    }
}
