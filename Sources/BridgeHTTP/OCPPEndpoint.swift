import Bridge
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import OCPPRPC

/// The OCPP-J WebSocket listener: `ws://HOST:PORT/ocpp/{chargePointId}`.
///
/// Hummingbird runs the listener (lifecycle, graceful shutdown, TLS); the WebSocket itself is a few NIO channel
/// handlers (`WebSocketUpgradeChannel`), so a frame reaches its session with plain calls on the connection's
/// event loop: no async stream and no actor hop per message (docs/performance.md).
public struct OCPPEndpoint: Sendable {
    /// Listener settings.
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        public var port = 9000
        /// The WebSocket ping interval; a peer that sends nothing for one to two intervals is closed.
        public var pingInterval: Duration = .seconds(60)
        /// The largest WebSocket message accepted; a larger one closes the connection (1009).
        public var maxMessageSize = 1 << 20
        /// Open OCPP connections at most; more upgrades are refused with 503.
        public var maxConnections = 25_000
        /// How long a new connection may take to ask for its upgrade (TLS handshake and HTTP request included).
        public var handshakeTimeout: Duration = .seconds(10)
        /// A charge point that sends no OCPP message for this long is disconnected (1008); nil: three heartbeat
        /// intervals; zero: never.
        public var idleTimeout: Duration?
        /// TLS for security profiles 2 and 3 (`wss://`); nil: plain `ws://`.
        public var tls: TLSFiles?
        public init() {}
    }

    let bridge: Bridge
    let configuration: Configuration
    let logger: Logger

    public init(bridge: Bridge, configuration: Configuration, logger: Logger) {
        self.bridge = bridge
        self.configuration = configuration
        self.logger = logger
    }

    /// The Hummingbird application serving the endpoint; `onRunning` receives the bound address. Throws when
    /// the TLS files cannot be used.
    public func application(onRunning: @escaping @Sendable (String) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let tlsConfiguration = try configuration.tls?.serverConfiguration(prefix: "ocpp.tls")
        let bridge = self.bridge
        let logger = self.logger
        let connections = OpenConnections()
        let idleTimeout = configuration.idleTimeout ?? .seconds(3 * bridge.configuration.heartbeatInterval)
        if idleTimeout > .zero {
            // Ends by itself once the server (which holds `connections`) is gone.
            OpenConnections.sweep(connections, timeout: idleTimeout, logger: logger)
        }
        let context = ChargePointReceiver.Context(
            bridge: bridge, connections: connections, watchesSilence: idleTimeout > .zero, logger: logger)
        let limits = WebSocketServerLimits(
            maxMessageSize: configuration.maxMessageSize,
            pingInterval: configuration.pingInterval > .zero ? configuration.pingInterval : nil,
            closeTimeout: .seconds(10))
        let maxConnections = configuration.maxConnections
        let handshakeTimeout = configuration.handshakeTimeout
        @Sendable func refuseOverLimit(_ id: String) -> WebSocketUpgradeDecision {
            logger.warning("refused an upgrade: \(maxConnections) connections are open", metadata: ["ocpp.chargePointId": .string(id)])
            return .refuse(.serviceUnavailable, headers: [])
        }
        /// Counts the connection from the decision to upgrade until its channel closes, whatever happens between
        /// (the upgrade may still fail); false when `maxConnections` are open.
        @Sendable func countConnection(_ channel: any Channel) -> Bool {
            guard connections.reserve(below: maxConnections) else { return false }
            channel.closeFuture.whenComplete { _ in connections.release() }
            return true
        }
        let shouldUpgrade: @Sendable (HTTPRequestHead, any Channel) -> WebSocketUpgradeDecision = { head, channel in
            guard let id = chargePointId(fromPath: head.uri) else {
                logger.warning("refused an upgrade without a charge point id", metadata: ["http.path": .string(head.uri)])
                return .refuse(.badRequest, headers: [])
            }
            HandshakeTimeoutHandler.handshakeCompleted(on: channel)
            guard connections.value < maxConnections else {
                return refuseOverLimit(id)
            }
            // Under mutual TLS the verified client certificate names the charge point.
            let identity = (try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate?.subjectCommonName
            switch bridge.admission.admit(id, authorization: head.headers.first(name: "Authorization"), certificateIdentity: identity) {
            case .admit:
                break
            case .unauthorized(let why):
                logger.warning("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                return .refuse(.unauthorized, headers: [("WWW-Authenticate", "Basic realm=\"OCPP\", charset=\"UTF-8\"")])
            case .refused(let why):
                logger.warning("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                return .refuse(.notFound, headers: [])
            case .unavailable(let why):
                logger.error("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                return .refuse(.serviceUnavailable, headers: [])
            }
            let version: OCPPVersion
            let headers: HTTPHeaders
            switch SubprotocolChoice.negotiate(
                offered: head.headers["Sec-WebSocket-Protocol"], preference: bridge.configuration.protocols,
                treatOcpp20As201: bridge.configuration.treatOcpp20As201, fallback: bridge.configuration.fallbackProtocol)
            {
            case .offered(let offered, let token):
                (version, headers) = (offered, ["Sec-WebSocket-Protocol": token])
            case .fallback(let fallback):
                logger.notice(
                    "charge point offered no subprotocol, using the fallback",
                    metadata: ["ocpp.chargePointId": .string(id), "ocpp.protocol": .string(fallback.rawValue)])
                (version, headers) = (fallback, [:])
            case .unsupported(let tokens):
                logger.warning(
                    "charge point offered no supported subprotocol; closing",
                    metadata: ["ocpp.chargePointId": .string(id), "ocpp.offered": .string(tokens.joined(separator: ","))])
                return .upgrade(headers: [:]) { connection in
                    connection.close(code: .protocolError, reason: "unsupported subprotocol")
                    return IgnoringReceiver()
                }
            }
            guard countConnection(channel) else { return refuseOverLimit(id) }
            return .upgrade(headers: headers) { connection in
                ChargePointReceiver.open(id: id, version: version, connection: connection, context: context)
            }
        }
        return Application(
            router: Router(),
            server: HTTPServerBuilder { _ -> any ServerChildChannel in
                let http = WebSocketUpgradeChannel(limits: limits, healthPath: "/health", shouldUpgrade: shouldUpgrade)
                guard let tlsConfiguration else { return HandshakeGuardedChannel(base: http, timeout: handshakeTimeout) }
                return HandshakeGuardedChannel(base: try TLSChannel(http, tlsConfiguration: tlsConfiguration), timeout: handshakeTimeout)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ocpp-bridge"),
            onServerRunning: { channel in await onRunning(Self.describe(channel.localAddress)) },
            logger: logger)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}

/// One charge point's WebSocket connection as the bridge sees it, on the connection's event loop: each text
/// message goes to the session in order, with a plain call. Messages that arrive while `Bridge.connect` is still
/// opening the session wait here.
final class ChargePointReceiver: WebSocketReceiver {
    /// What every connection of the endpoint shares.
    struct Context: Sendable {
        let bridge: Bridge
        let connections: OpenConnections
        let watchesSilence: Bool
        let logger: Logger
    }

    /// At most this many messages wait for the session to open; a charge point sends one CALL at a time.
    static let maxWaiting = 64

    private enum Phase {
        case connecting(waiting: [ByteBuffer])
        case open(ChargePointSession, watched: OpenConnections.Entry?)
        case ended
    }

    private let id: String
    private let connection: WebSocketServerConnection
    private let context: Context
    private var phase = Phase.connecting(waiting: [])

    private init(id: String, connection: WebSocketServerConnection, context: Context) {
        self.id = id
        self.connection = connection
        self.context = context
    }

    /// Opens the connection's session (the endpoint counted the connection); returns the receiver of its messages.
    static func open(id: String, version: OCPPVersion, connection: WebSocketServerConnection, context: Context) -> ChargePointReceiver {
        let receiver = ChargePointReceiver(id: id, connection: connection, context: context)
        let eventLoop = connection.channel.eventLoop
        let bound = NIOLoopBound(receiver, eventLoop: eventLoop)
        Task {
            let session = await context.bridge.connect(
                chargePointId: id, version: version, connection: WebSocketConnection(connection: connection))
            eventLoop.execute { bound.value.opened(session) }
        }
        return receiver
    }

    /// The session is open: hands it the messages that waited, or ends it if the connection already closed.
    private func opened(_ session: ChargePointSession) {
        guard case .connecting(let waiting) = phase else {
            Task { [bridge = context.bridge] in await bridge.disconnected(session) }
            return
        }
        let watched = context.watchesSilence ? context.connections.watch(session) : nil
        phase = .open(session, watched: watched)
        for text in waiting { session.receive(text.readableBytesView) }
    }

    func received(text: ByteBuffer) {
        switch phase {
        case .open(let session, let watched):
            watched?.touch()
            session.receive(text.readableBytesView)
        case .connecting(var waiting):
            guard waiting.count < Self.maxWaiting else {
                connection.close(code: .policyViolation, reason: "too many messages before the session opened")
                return
            }
            phase = .ended  // releases the array, so the append below does not copy it
            waiting.append(text)
            phase = .connecting(waiting: waiting)
        case .ended:
            break
        }
    }

    func received(binary: ByteBuffer) {
        context.logger.warning("ignored a binary frame: OCPP-J uses text frames", metadata: ["ocpp.chargePointId": .string(id)])
    }

    func closed() {
        let before = phase
        phase = .ended
        switch before {
        case .open(let session, let watched):
            if let watched { context.connections.forget(watched) }
            Task { [bridge = context.bridge] in await bridge.disconnected(session) }
        case .connecting, .ended:
            // A session still connecting is ended by `opened` once it exists.
            break
        }
    }
}

/// The receiver of a connection that is being closed at once: it ignores what still arrives.
final class IgnoringReceiver: WebSocketReceiver {
    func received(text: ByteBuffer) {}
    func received(binary: ByteBuffer) {}
    func closed() {}
}

/// A session's connection. Text frames go straight to the channel, which takes writes from any thread in
/// order: no task hop per answer (docs/performance.md); a frame written after the closing handshake started
/// is dropped.
struct WebSocketConnection: ChargePointConnection {
    let connection: WebSocketServerConnection

    func send(_ text: String) {
        connection.send(text: text)
    }

    func close(_ reason: SessionCloseReason) {
        let (code, why): (WebSocketErrorCode, String) =
            switch reason {
            case .replaced: (.normalClosure, "replaced by a new connection")
            case .shutdown: (.goingAway, "the bridge is shutting down")
            case .protocolError(let why): (.protocolError, why)
            case .policyViolation(let why): (.policyViolation, why)
            }
        connection.close(code: code, reason: why)
    }
}
