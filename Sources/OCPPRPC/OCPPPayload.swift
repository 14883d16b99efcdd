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
    /// Validates a request the bridge is about to send: as `validateRequest`, and members the schema does not
    /// know are errors too (strict in what we send; the schemas say `additionalProperties: false`).
    public var validateOutgoingRequest: @Sendable (JSONValue) throws(PayloadError) -> Void

    public init(
        name: String, initiator: ActionInitiator,
        validateRequest: @escaping @Sendable (JSONValue) throws(PayloadError) -> Void,
        validateResponse: @escaping @Sendable (JSONValue) throws(PayloadError) -> Void,
        validateOutgoingRequest: (@Sendable (JSONValue) throws(PayloadError) -> Void)? = nil
    ) {
        self.name = name
        self.initiator = initiator
        self.validateRequest = validateRequest
        self.validateResponse = validateResponse
        self.validateOutgoingRequest = validateOutgoingRequest ?? validateRequest
    }

    /// A descriptor whose validators decode the given payload types.
    public init<Request: OCPPPayload, Response: OCPPPayload>(
        name: String, initiator: ActionInitiator, request: Request.Type, response: Response.Type
    ) {
        self.init(
            name: name, initiator: initiator,
            validateRequest: { (json: JSONValue) throws(PayloadError) in _ = try Request(json: json) },
            validateResponse: { (json: JSONValue) throws(PayloadError) in _ = try Response(json: json) },
            validateOutgoingRequest: { (json: JSONValue) throws(PayloadError) in
                let decoded = try Request(json: json)
                if let path = JSONValue.firstUnknownMember(of: json, knownIn: decoded.json) {
                    throw PayloadError(.formation, path: path, "unknown member: the schema allows no other properties")
                }
            })
    }
}

extension JSONValue {
    /// The path of the first object member in `value` that `known` lacks, comparing arrays element by element.
    /// A typed payload's `json` writes only the members its schema knows, so this finds the unknown ones.
    public static func firstUnknownMember(of value: JSONValue, knownIn known: JSONValue, path: String = "") -> String? {
        switch (value, known) {
        case (.object(let members), .object(let knownMembers)):
            for key in members.keys.sorted() {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let knownChild = knownMembers[key] else { return childPath }
                if let found = firstUnknownMember(of: members[key]!, knownIn: knownChild, path: childPath) { return found }
            }
            return nil
        case (.array(let elements), .array(let knownElements)):
            for (index, element) in elements.enumerated() where index < knownElements.count {
                if let found = firstUnknownMember(of: element, knownIn: knownElements[index], path: "\(path)[\(index)]") {
                    return found
                }
            }
            return nil
        default:
            return nil
        }
    }
}
