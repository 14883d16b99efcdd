import NIOHTTP1

/// The checks on a `101 Switching Protocols` response that NIO's upgrader leaves to the caller.
///
/// NIO's `NIOTypedHTTPClientUpgradeHandler` looks only at the status, the first `Upgrade` token and (through
/// `NIOTypedWebSocketClientUpgrader`) `Sec-WebSocket-Accept`; it never reads `Connection` or
/// `Sec-WebSocket-Protocol`. RFC 6455 §4.1 requires both checks, done here.
enum HandshakeValidation {
    /// The comma-separated tokens of every field with this name, trimmed, lowercased, empty ones dropped.
    static func tokens(_ name: String, in headers: HTTPHeaders) -> [String] {
        headers[name].flatMap { value in
            value.split(separator: ",").map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty }
        }
    }

    /// True when the `Connection` header holds the token `upgrade`, in any case, among any others.
    static func connectionAllowsUpgrade(_ headers: HTTPHeaders) -> Bool {
        tokens("Connection", in: headers).contains("upgrade")
    }

    /// The subprotocol the server chose, or `nil` when it chose none; throws when it was not offered.
    static func chosenSubprotocol(_ headers: HTTPHeaders, offered: [String]) throws(UpstreamConnectError) -> String? {
        let values = headers["Sec-WebSocket-Protocol"].flatMap { value in
            value.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        guard let chosen = values.first else { return nil }
        guard values.count == 1 else {
            throw .subprotocolMismatch(values.joined(separator: ", "))
        }
        // Subprotocol names are compared exactly (RFC 6455 §4.1); report the one offered.
        guard let match = offered.first(where: { $0 == chosen }) else {
            throw .subprotocolMismatch(chosen)
        }
        return match
    }

    /// Checks a 101 response: `Connection` includes `upgrade` and the subprotocol, if any, was offered.
    static func validate(_ head: HTTPResponseHead, offered: [String]) throws(UpstreamConnectError) -> String? {
        guard connectionAllowsUpgrade(head.headers) else {
            let value = head.headers["Connection"].joined(separator: ", ")
            throw .handshakeFailed(value.isEmpty ? "no Connection header" : "Connection header '\(value)' lacks 'upgrade'")
        }
        return try chosenSubprotocol(head.headers, offered: offered)
    }
}
