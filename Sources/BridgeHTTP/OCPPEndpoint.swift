import Bridge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import OCPPRPC

/// The OCPP-J WebSocket listener: `ws://HOST:PORT/ocpp/{chargePointId}`.
public struct OCPPEndpoint: Sendable {
    /// Listener settings.
    public struct Configuration: Sendable {
        public var host = "0.0.0.0"
        public var port = 9000
        /// The WebSocket ping interval; a peer that stops answering pings is closed.
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
        let router = Router()
        router.get("/health") { _, _ in "ok" }
        let wsConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(),
            ws: WebSocketServerConfiguration(
                maxFrameSize: configuration.maxMessageSize,
                autoPing: .enabled(timePeriod: configuration.pingInterval),
                closeTimeout: .seconds(10)))
        let bridge = self.bridge
        let connections = OpenConnections()
        let limits = ServeLimits(
            maxMessageSize: configuration.maxMessageSize,
            idleTimeout: configuration.idleTimeout ?? .seconds(3 * bridge.configuration.heartbeatInterval))
        if limits.idleTimeout > .zero {
            // Ends by itself once the server (which holds `connections`) is gone.
            OpenConnections.sweep(connections, timeout: limits.idleTimeout, logger: logger)
        }
        let maxConnections = configuration.maxConnections
        let handshakeTimeout = configuration.handshakeTimeout
        let shouldUpgrade: @Sendable (HTTPRequest, any Channel, Logger) throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        > = { request, channel, logger in
            guard let id = chargePointId(fromPath: request.path ?? "") else {
                logger.warning("refused an upgrade without a charge point id", metadata: ["http.path": .string(request.path ?? "")])
                return .dontUpgrade
            }
            HandshakeTimeoutHandler.handshakeCompleted(on: channel)
            guard connections.value < maxConnections else {
                logger.warning("refused an upgrade: \(maxConnections) connections are open", metadata: ["ocpp.chargePointId": .string(id)])
                Self.refuse(channel, .serviceUnavailable)
                return .dontUpgrade
            }
            // Under mutual TLS the verified client certificate names the charge point.
            let identity = (try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.peerCertificate?.subjectCommonName
            switch bridge.admission.admit(id, authorization: request.headerFields[.authorization], certificateIdentity: identity) {
            case .admit:
                break
            case .unauthorized(let why):
                logger.warning("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                Self.refuse(channel, .unauthorized, headers: [("WWW-Authenticate", "Basic realm=\"OCPP\", charset=\"UTF-8\"")])
                return .dontUpgrade
            case .refused(let why):
                logger.warning("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                Self.refuse(channel, .notFound)
                return .dontUpgrade
            case .unavailable(let why):
                logger.error("refused an upgrade: \(why)", metadata: ["ocpp.chargePointId": .string(id)])
                Self.refuse(channel, .serviceUnavailable)
                return .dontUpgrade
            }
            let offered = request.headerFields[values: .secWebSocketProtocol]
            switch SubprotocolChoice.negotiate(
                offered: offered, preference: bridge.configuration.protocols,
                treatOcpp20As201: bridge.configuration.treatOcpp20As201, fallback: bridge.configuration.fallbackProtocol)
            {
            case .offered(let version, let token):
                return .upgrade([.secWebSocketProtocol: token]) { inbound, outbound, context in
                    await Self.serve(
                        id: id, version: version, bridge: bridge, channel: channel, inbound: inbound, outbound: outbound,
                        limits: limits, connections: connections, logger: context.logger)
                }
            case .fallback(let version):
                logger.notice(
                    "charge point offered no subprotocol, using the fallback",
                    metadata: ["ocpp.chargePointId": .string(id), "ocpp.protocol": .string(version.rawValue)])
                return .upgrade([:]) { inbound, outbound, context in
                    await Self.serve(
                        id: id, version: version, bridge: bridge, channel: channel, inbound: inbound, outbound: outbound,
                        limits: limits, connections: connections, logger: context.logger)
                }
            case .unsupported(let tokens):
                logger.warning(
                    "charge point offered no supported subprotocol; closing",
                    metadata: ["ocpp.chargePointId": .string(id), "ocpp.offered": .string(tokens.joined(separator: ","))])
                return .upgrade([:]) { _, outbound, _ in
                    try? await outbound.close(.protocolError, reason: "unsupported subprotocol")
                }
            }
        }
        return Application(
            router: router,
            server: HTTPServerBuilder { responder -> any ServerChildChannel in
                let http = HTTP1WebSocketUpgradeChannel(responder: responder, configuration: wsConfiguration, shouldUpgrade: shouldUpgrade)
                guard let tlsConfiguration else { return HandshakeGuardedChannel(base: http, timeout: handshakeTimeout) }
                return HandshakeGuardedChannel(base: try TLSChannel(http, tlsConfiguration: tlsConfiguration), timeout: handshakeTimeout)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ocpp-bridge"),
            onServerRunning: { channel in await onRunning(Self.describe(channel.localAddress)) },
            logger: logger)
    }

    /// The limits `serve` applies to one connection.
    struct ServeLimits: Sendable {
        var maxMessageSize: Int
        var idleTimeout: Duration
    }

    static func serve(
        id: String, version: OCPPVersion, bridge: Bridge, channel: any Channel, inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter, limits: ServeLimits, connections: OpenConnections, logger: Logger
    ) async {
        connections.opened()
        defer { connections.closed() }
        let connection = WebSocketConnection(channel: channel, outbound: outbound)
        let session = await bridge.connect(chargePointId: id, version: version, connection: connection)
        let watched = limits.idleTimeout > .zero ? connections.watch(session) : nil
        do {
            for try await message in inbound.messages(maxSize: limits.maxMessageSize) {
                watched?.touch()
                switch message {
                case .text(let text):
                    session.receive(text.utf8)
                case .binary:
                    logger.warning("ignored a binary frame: OCPP-J uses text frames", metadata: ["ocpp.chargePointId": .string(id)])
                }
            }
        } catch {
            logger.info("connection ended with an error", metadata: ["ocpp.chargePointId": .string(id), "error": .string("\(error)")])
        }
        if let watched { connections.forget(watched) }
        await bridge.disconnected(session)
    }

    /// Answers a refused upgrade with `status` and closes the connection. The upgrade handler would answer 400
    /// to any refusal; this response goes first, on the still-HTTP/1 channel (STACK.md).
    static func refuse(_ channel: any Channel, _ status: HTTPResponseStatus, headers: [(String, String)] = []) {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Content-Length", value: "0")
        fields.add(name: "Connection", value: "close")
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields)), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}

/// A session's connection. Text frames go straight to the channel, which takes writes from any thread in
/// order: no task hop per answer (docs/performance.md); a frame written after the channel closed is dropped.
/// A close goes through Hummingbird's WebSocket handler, which runs the closing handshake.
struct WebSocketConnection: ChargePointConnection {
    let channel: any Channel
    let outbound: WebSocketOutboundWriter

    func send(_ text: String) {
        let buffer = channel.allocator.buffer(string: text)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: nil)
    }

    func close(_ reason: SessionCloseReason) {
        let (code, why): (WebSocketErrorCode, String) =
            switch reason {
            case .replaced: (.normalClosure, "replaced by a new connection")
            case .shutdown: (.goingAway, "the bridge is shutting down")
            case .protocolError(let why): (.protocolError, why)
            case .policyViolation(let why): (.policyViolation, why)
            }
        Task { [outbound] in try? await outbound.close(code, reason: why) }
    }
}
