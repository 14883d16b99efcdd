/// A typed OCPP request or response payload that validates itself against its message schema.
public protocol OCPPPayload: Sendable, Equatable {
    /// Decodes and validates a payload; throws the first schema violation found.
    init(json: JSONValue) throws(PayloadError)
    /// The payload as JSON, ready to send.
    var json: JSONValue { get }
}

/// Who may send the request of an action.
public enum ActionInitiator: String, Sendable, Hashable {
    /// Sent by the charge point, answered by the CSMS.
    case chargePoint
    /// Sent by the CSMS (the bridge), answered by the charge point.
    case csms
    /// Either side may send it (DataTransfer).
    case both

    /// Whether a charge point may send this action.
    public var chargePointMaySend: Bool { self != .csms }
    /// Whether the CSMS may send this action.
    public var csmsMaySend: Bool { self != .chargePoint }
}

/// One action of a protocol version: its name, who initiates it, and validators for both payloads.
public struct ActionDescriptor: Sendable {
    public var name: String
    public var initiator: ActionInitiator
    /// Validates a request payload.
    public var validateRequest: @Sendable (JSONValue) throws(PayloadError) -> Void
    /// Validates a response payload.
    public var validateResponse: @Sendable (JSONValue) throws(PayloadError) -> Void

    public init(
        name: String, initiator: ActionInitiator,
        validateRequest: @escaping @Sendable (JSONValue) throws(PayloadError) -> Void,
        validateResponse: @escaping @Sendable (JSONValue) throws(PayloadError) -> Void
    ) {
        self.name = name
        self.initiator = initiator
        self.validateRequest = validateRequest
        self.validateResponse = validateResponse
    }

    /// A descriptor whose validators decode the given payload types.
    public init<Request: OCPPPayload, Response: OCPPPayload>(
        name: String, initiator: ActionInitiator, request: Request.Type, response: Response.Type
    ) {
        self.init(
            name: name, initiator: initiator,
            validateRequest: { (json: JSONValue) throws(PayloadError) in _ = try Request(json: json) },
            validateResponse: { (json: JSONValue) throws(PayloadError) in _ = try Response(json: json) })
    }
}
