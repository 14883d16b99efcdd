import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

extension UpstreamConnection {
    /// What the handshake produced, on the event loop.
    enum Handshake: Sendable {
        case upgraded(UpstreamConnection)
        case refused(status: Int, reason: String, channel: any Channel)
    }

    /// Connects to `url`, offers `subprotocols`, and completes the WebSocket upgrade.
    ///
    /// - Parameters:
    ///   - url: The full `ws://` or `wss://` URL, charge point id included (see `UpstreamEndpoint.url(for:)`).
    ///   - subprotocols: The subprotocols offered, in order of preference (`ocpp1.6`, `ocpp2.0.1`).
    ///   - basicAuth: Credentials sent as `Authorization: Basic` (OCPP security profiles 1 and 2).
    ///   - connectTimeout: The limit for TCP connect, TLS handshake and HTTP upgrade together.
    ///   - maxMessageSize: The largest incoming message; a larger one closes the connection with 1009.
    ///   - pingInterval: When set, a ping is sent every interval and a missing pong closes the connection.
    ///   - tlsConfiguration: The TLS settings for `wss://`; by default the system trust roots.
    ///   - eventLoopGroup: Where the connection runs.
    ///   - logger: Receives connection events.
    public static func connect(
        to url: String,
        subprotocols: [String],
        basicAuth: (username: String, password: String)?,
        connectTimeout: Duration,
        maxMessageSize: Int,
        pingInterval: Duration?,
        tlsConfiguration: TLSConfiguration? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws(UpstreamConnectError) -> UpstreamConnection {
        let target = try WebSocketURL(parsing: url)
        // NIO's frame decoder requires a limit that fits in 32 bits (it preconditions on it).
        let maxMessageSize = min(max(maxMessageSize, 1), Int(UInt32.max))
        var logger = logger
        logger[metadataKey: "upstream.url"] = .string(url)

        let sslContext: NIOSSLContext?
        do {
            sslContext = target.secure ? try NIOSSLContext(configuration: tlsConfiguration ?? .makeClientConfiguration()) : nil
        } catch {
            throw .tls("\(error)")
        }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        if let basicAuth {
            headers.add(name: "Authorization", value: "Basic " + Base64.encode(Array("\(basicAuth.username):\(basicAuth.password)".utf8)))
        }
        let requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.target, headers: headers)
        let timeout = TimeAmount(connectTimeout)
        let pingAmount = pingInterval.map(TimeAmount.init).flatMap { $0 > .zero ? $0 : nil }
        let timedOut = TimeoutFlag()
        let handshakeLogger = logger

        let handshake: Handshake
        do {
            let future = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: target.host, port: target.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try configurePipeline(
                            channel: channel, target: target, sslContext: sslContext, requestHead: requestHead,
                            subprotocols: subprotocols, maxMessageSize: maxMessageSize, pingInterval: pingAmount,
                            timeout: timeout, timedOut: timedOut, logger: handshakeLogger)
                    }
                }
            handshake = try await future.get()
        } catch {
            throw mapError(error, timedOut: timedOut.isSet)
        }

        switch handshake {
        case .refused(let status, let reason, let channel):
            channel.close(promise: nil)
            logger.info("upstream refused the upgrade", metadata: ["http.status": .stringConvertible(status)])
            throw .refused(status: status, reason: reason)
        case .upgraded(let connection):
            logger.debug("upstream connected", metadata: ["ws.subprotocol": .string(connection.subprotocol ?? "")])
            return connection
        }
    }
}
