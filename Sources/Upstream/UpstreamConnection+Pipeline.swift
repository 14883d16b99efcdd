import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

extension UpstreamConnection {
    /// Builds the handshake pipeline on a new channel: TLS, HTTP codec, `HandshakeHeadHandler`, NIO's
    /// upgrade handler with `UpstreamWebSocketUpgrader`, and a timer that fails the handshake after `timeout`.
    static func configurePipeline(
        channel: any Channel, target: WebSocketURL, sslContext: NIOSSLContext?, requestHead: HTTPRequestHead,
        subprotocols: [String], maxMessageSize: Int, pingInterval: TimeAmount?, timeout: TimeAmount,
        timedOut: TimeoutFlag, logger: Logger
    ) throws -> EventLoopFuture<Handshake> {
        let sync = channel.pipeline.syncOperations
        if let sslContext {
            try sync.addHandler(
                NIOSSLClientHandler(context: sslContext, serverHostname: target.hostIsIPAddress ? nil : target.host))
        }
        let encoder = HTTPRequestEncoder()
        let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        let headHandler = HandshakeHeadHandler()
        try sync.addHandler(encoder)
        try sync.addHandler(decoder)
        try sync.addHandler(headHandler)
        let boundHead = NIOLoopBound(headHandler, eventLoop: channel.eventLoop)

        let upgrader = UpstreamWebSocketUpgrader<Handshake>(
            maxFrameSize: maxMessageSize, offeredSubprotocols: subprotocols
        ) { channel, subprotocol in
            channel.eventLoop.makeCompletedFuture {
                try upgraded(channel: channel, subprotocol: subprotocol, maxMessageSize: maxMessageSize, pingInterval: pingInterval, logger: logger)
            }
        }
        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Handshake>(
            upgradeRequestHead: requestHead,
            upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in
                channel.eventLoop.makeCompletedFuture {
                    let status = boundHead.value.responseHead?.status ?? .badGateway
                    return .refused(status: Int(status.code), reason: status.reasonPhrase, channel: channel)
                }
            }
        )
        let upgradeHandler = NIOTypedHTTPClientUpgradeHandler(
            httpHandlers: [encoder, decoder, headHandler], upgradeConfiguration: configuration)
        try sync.addHandler(upgradeHandler)

        let result = channel.eventLoop.makePromise(of: Handshake.self)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.set()
            result.fail(UpstreamConnectError.timeout)
            channel.close(promise: nil)
        }
        result.futureResult.whenComplete { _ in timer.cancel() }
        upgradeHandler.upgradeResultFuture.cascade(to: result)
        return result.futureResult
    }

    /// Adds the WebSocket handlers after a successful upgrade and wraps the channel.
    private static func upgraded(
        channel: any Channel, subprotocol: String?, maxMessageSize: Int, pingInterval: TimeAmount?, logger: Logger
    ) throws -> Handshake {
        let (messages, continuation) = AsyncStream<String>.makeStream()
        let closed = channel.eventLoop.makePromise(of: UpstreamCloseInfo.self)
        let handler = UpstreamFrameHandler(
            continuation: continuation, closedPromise: closed, pingInterval: pingInterval, logger: logger)
        do {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(
                NIOWebSocketFrameAggregator(
                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: maxMessageSize))
            try sync.addHandler(handler)
        } catch {
            continuation.finish()
            closed.succeed(UpstreamCloseInfo(code: nil, initiator: .transport, error: "\(error)"))
            throw error
        }
        return .upgraded(
            UpstreamConnection(
                subprotocol: subprotocol, messages: messages, channel: channel,
                handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), closed: closed.futureResult))
    }

    /// Translates a connect failure into an `UpstreamConnectError`.
    static func mapError(_ error: any Error, timedOut: Bool) -> UpstreamConnectError {
        if timedOut { return .timeout }
        switch error {
        case let error as UpstreamConnectError:
            return error
        case ChannelError.connectTimeout:
            return .timeout
        case let error as NIOHTTPClientUpgradeError:
            if error == .upgraderDeniedUpgrade { return .handshakeFailed("Sec-WebSocket-Accept does not match the key sent") }
            if error == .responseProtocolNotFound { return .handshakeFailed("101 response without 'Upgrade: websocket'") }
            return .handshakeFailed("\(error)")
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            return .tls("\(error)")
        case is NIOConnectionError, is IOError, is SocketAddressError:
            return .unreachable("\(error)")
        case is HTTPParserError:
            return .handshakeFailed("invalid HTTP response: \(error)")
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, ChannelError.inappropriateOperationForState:
            return .handshakeFailed("the server closed the connection during the upgrade")
        default:
            return .handshakeFailed("\(error)")
        }
    }
}

/// Set once when the connect timer fires, read after the connect attempt fails.
final class TimeoutFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Standard base64 (RFC 4648 §4), for the Basic `Authorization` header.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
