/// Why a connection to an upstream CSMS could not be established.
public struct UpstreamConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidURL, unreachable, timeout, refused, handshakeFailed, subprotocolMismatch, tls
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The URL is not a usable `ws://` or `wss://` URL.
        public static let invalidURL = Kind(.invalidURL)
        /// The host could not be resolved or the TCP connection failed.
        public static let unreachable = Kind(.unreachable)
        /// The TCP connect, TLS handshake or HTTP upgrade did not finish within the connect timeout.
        public static let timeout = Kind(.timeout)
        /// The server answered the upgrade request with a status other than 101.
        public static let refused = Kind(.refused)
        /// The server's 101 response is not a valid WebSocket handshake.
        public static let handshakeFailed = Kind(.handshakeFailed)
        /// The server chose a subprotocol that was not offered.
        public static let subprotocolMismatch = Kind(.subprotocolMismatch)
        /// The TLS handshake failed.
        public static let tls = Kind(.tls)

        /// The kind's name.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let kind: Kind
    /// The HTTP status of a refused upgrade.
    public let status: Int?
    /// Details: the reason phrase, the underlying error, the offending header.
    public let detail: String

    private init(kind: Kind, status: Int? = nil, detail: String) {
        self.kind = kind
        self.status = status
        self.detail = detail
    }

    /// The URL is not a usable `ws://` or `wss://` URL.
    public static func invalidURL(_ detail: String) -> Self { .init(kind: .invalidURL, detail: detail) }
    /// The host could not be resolved or the TCP connection failed.
    public static func unreachable(_ detail: String) -> Self { .init(kind: .unreachable, detail: detail) }
    /// The connection attempt took longer than the connect timeout.
    public static let timeout = Self(kind: .timeout, detail: "")
    /// The server refused the upgrade with an HTTP status other than 101.
    public static func refused(status: Int, reason: String) -> Self { .init(kind: .refused, status: status, detail: reason) }
    /// The server's 101 response is not a valid WebSocket handshake.
    public static func handshakeFailed(_ detail: String) -> Self { .init(kind: .handshakeFailed, detail: detail) }
    /// The server chose a subprotocol that was not offered.
    public static func subprotocolMismatch(_ chosen: String) -> Self { .init(kind: .subprotocolMismatch, detail: chosen) }
    /// The TLS handshake failed.
    public static func tls(_ detail: String) -> Self { .init(kind: .tls, detail: detail) }

    /// A one-line explanation, such as `upgrade refused: HTTP 401 Unauthorized`.
    public var description: String {
        switch kind {
        case .invalidURL: "invalid URL: \(detail)"
        case .unreachable: "upstream unreachable: \(detail)"
        case .timeout: "connect timed out"
        case .refused: "upgrade refused: HTTP \(status ?? 0)\(detail.isEmpty ? "" : " \(detail)")"
        case .handshakeFailed: "WebSocket handshake failed: \(detail)"
        case .subprotocolMismatch: "server chose subprotocol '\(detail)', which was not offered"
        case .tls: "TLS failure: \(detail)"
        default: "\(kind): \(detail)"
        }
    }
}
