import OCPPRPC

/// Why a CALL the bridge sent to a charge point got no CALLRESULT.
public struct CallFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The charge point answered with a CALLERROR.
        case callError
        /// No answer within the timeout.
        case timeout
        /// The connection closed (or was replaced) before the answer came.
        case disconnected
        /// The charge point is not connected.
        case offline
        /// The request payload does not satisfy the action's schema; nothing was sent.
        case invalidRequest
        /// The action is unknown, or a charge point may not be sent it.
        case unknownAction
        /// Too many CALLs are already queued for the peer (`SessionLimits.maxQueuedCalls`); nothing was sent.
        case busy
    }

    public var kind: Kind
    /// The CALLERROR code (for `.callError`) or the constraint violated (for `.invalidRequest`).
    public var code: RPCErrorCode?
    public var reason: String
    public var details: JSONValue

    public init(_ kind: Kind, code: RPCErrorCode? = nil, _ reason: String, details: JSONValue = .object([:])) {
        self.kind = kind
        self.code = code
        self.reason = reason
        self.details = details
    }

    public var description: String {
        if let code { return "\(code.rawValue): \(reason)" }
        return reason
    }
}
