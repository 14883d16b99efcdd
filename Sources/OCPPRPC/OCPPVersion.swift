/// An OCPP-J protocol version, named by its WebSocket subprotocol.
public enum OCPPVersion: String, Sendable, Hashable, CaseIterable {
    case v16 = "ocpp1.6"
    case v201 = "ocpp2.0.1"

    /// The `Sec-WebSocket-Protocol` token of this version.
    public var subprotocol: String { rawValue }
}
