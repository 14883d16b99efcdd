/// One OCPP-J frame: CALL `[2, id, action, payload]`, CALLRESULT `[3, id, payload]` or
/// CALLERROR `[4, id, code, description, details]`.
public enum RPCMessage: Sendable, Hashable {
    case call(id: String, action: String, payload: JSONValue)
    case callResult(id: String, payload: JSONValue)
    case callError(id: String, code: RPCErrorCode, description: String, details: JSONValue)

    /// The message type number on the wire (2, 3 or 4).
    public var messageTypeId: Int {
        switch self {
        case .call: return 2
        case .callResult: return 3
        case .callError: return 4
        }
    }

    /// The message id.
    public var id: String {
        switch self {
        case .call(let id, _, _), .callResult(let id, _), .callError(let id, _, _, _): return id
        }
    }

    /// A CALLERROR answering the CALL `id` with `error`, in the spelling of `version`.
    public static func callError(id: String, error: some RPCErrorConvertible, version: OCPPVersion) -> RPCMessage {
        .callError(
            id: id, code: error.errorCode(for: version), description: error.errorDescription,
            details: .object(error.errorDetails))
    }

    /// The frame as a JSON value.
    public var json: JSONValue {
        switch self {
        case .call(let id, let action, let payload):
            return .array([.int(2), .string(id), .string(action), payload])
        case .callResult(let id, let payload):
            return .array([.int(3), .string(id), payload])
        case .callError(let id, let code, let description, let details):
            return .array([.int(4), .string(id), .string(code.rawValue), .string(description), details])
        }
    }

    /// The frame as compact JSON text, ready for a WebSocket text frame.
    public var text: String { json.jsonText }

    /// The largest message id OCPP-J allows (CiString36).
    public static let maxIdLength = 36
}

/// A frame that is not a valid OCPP-J message.
public struct RPCFrameError: RPCErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Not JSON text at all.
        case notJSON
        /// JSON, but not an array with a valid message type id and message id.
        case notRPC
        /// A message type id other than 2, 3 or 4.
        case unknownMessageType
        /// A known message type whose elements are wrong (count, types, payload not an object).
        case malformed
    }

    public var kind: Kind
    /// The message type id, where the frame had one.
    public var messageTypeId: Int?
    /// The message id, where it could be read; a CALLERROR then answers under that id.
    public var messageId: String?
    public var reason: String

    public init(_ kind: Kind, messageTypeId: Int? = nil, messageId: String? = nil, _ reason: String) {
        self.kind = kind
        self.messageTypeId = messageTypeId
        self.messageId = messageId
        self.reason = reason
    }

    public func errorCode(for version: OCPPVersion) -> RPCErrorCode {
        switch (version, kind) {
        case (.v16, _): return .formationViolation
        case (.v201, .notJSON), (.v201, .notRPC): return .rpcFrameworkError
        case (.v201, .unknownMessageType): return .messageTypeNotSupported
        case (.v201, .malformed): return .formatViolation
        }
    }

    public var errorDescription: String { reason }
    public var description: String { reason }

    /// Whether the sender expects an answer: only a CALL (or what may have been one) gets a CALLERROR.
    public var deservesAnswer: Bool { messageTypeId == nil || messageTypeId == 2 || kind == .unknownMessageType }
}

extension RPCMessage {
    /// Decodes one WebSocket text frame.
    public init(parsing bytes: some Collection<UInt8>) throws(RPCFrameError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw RPCFrameError(.notJSON, error.description)
        }
        try self.init(json: value)
    }

    /// Decodes one WebSocket text frame given as a string.
    public init(parsing text: String) throws(RPCFrameError) {
        try self.init(parsing: text.utf8)
    }

    /// Decodes an already parsed frame.
    public init(json value: JSONValue) throws(RPCFrameError) {
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw RPCFrameError(.notRPC, "a message must be a JSON array")
        }
        guard let typeId = elements[0].intValue else {
            throw RPCFrameError(.notRPC, "the message type id must be an integer")
        }
        let messageType = Int(truncatingIfNeeded: typeId)
        guard elements.count >= 2, let id = elements[1].stringValue else {
            throw RPCFrameError(.notRPC, messageTypeId: messageType, "the message id must be a string")
        }
        guard !id.isEmpty, id.utf8.count <= RPCMessage.maxIdLength else {
            throw RPCFrameError(
                .malformed, messageTypeId: messageType, messageId: String(id.prefix(RPCMessage.maxIdLength)),
                "the message id must be 1 to \(RPCMessage.maxIdLength) characters")
        }
        func malformed(_ reason: String) -> RPCFrameError {
            RPCFrameError(.malformed, messageTypeId: messageType, messageId: id, reason)
        }
        switch messageType {
        case 2:
            guard elements.count == 4 else { throw malformed("a CALL has 4 elements, not \(elements.count)") }
            guard let action = elements[2].stringValue, !action.isEmpty else {
                throw malformed("the action must be a non-empty string")
            }
            guard case .object = elements[3] else { throw malformed("the payload must be a JSON object") }
            self = .call(id: id, action: action, payload: elements[3])
        case 3:
            guard elements.count == 3 else { throw malformed("a CALLRESULT has 3 elements, not \(elements.count)") }
            guard case .object = elements[2] else { throw malformed("the payload must be a JSON object") }
            self = .callResult(id: id, payload: elements[2])
        case 4:
            // Liberal: some chargers omit the details or send null.
            guard elements.count == 4 || elements.count == 5 else {
                throw malformed("a CALLERROR has 5 elements, not \(elements.count)")
            }
            guard let code = elements[2].stringValue, let description = elements[3].stringValue else {
                throw malformed("the error code and description must be strings")
            }
            var details: JSONValue = .object([:])
            if elements.count == 5, case .object = elements[4] { details = elements[4] }
            self = .callError(id: id, code: RPCErrorCode(rawValue: code), description: description, details: details)
        default:
            throw RPCFrameError(
                .unknownMessageType, messageTypeId: messageType, messageId: id,
                "unknown message type id \(messageType)")
        }
    }
}
