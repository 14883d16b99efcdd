import NIOWebSocket

/// How an upstream connection ended.
public struct UpstreamCloseInfo: Sendable, Equatable, CustomStringConvertible {
    /// Who ended the connection.
    public enum Initiator: Sendable, Hashable {
        /// This side: `close()`, a protocol error, or a missed pong.
        case local
        /// The server sent a close frame.
        case remote
        /// The TCP connection ended without a close handshake.
        case transport
    }

    /// The close code sent or received, `nil` when the connection ended without a close frame.
    public var code: WebSocketErrorCode?
    /// The close reason sent or received.
    public var reason: String?
    /// Who ended the connection.
    public var initiator: Initiator
    /// The error that ended the connection, if one did (for example `no pong within 30 seconds`).
    public var error: String?

    /// Creates a close description.
    public init(code: WebSocketErrorCode?, reason: String? = nil, initiator: Initiator, error: String? = nil) {
        self.code = code
        self.reason = reason
        self.initiator = initiator
        self.error = error
    }

    /// A one-line summary, such as `closed by server: 1000 bye`.
    public var description: String {
        let who = switch initiator {
        case .local: "closed locally"
        case .remote: "closed by server"
        case .transport: "connection lost"
        }
        var text = who
        if let code { text += ": \(UInt16(webSocketErrorCode: code))" }
        if let reason, !reason.isEmpty { text += " \(reason)" }
        if let error { text += " (\(error))" }
        return text
    }
}
