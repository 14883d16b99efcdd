import Logging
import NIOCore
import NIOWebSocket

/// The WebSocket side of an upstream connection, on the channel's event loop: delivers text messages,
/// answers pings, sends keep-alive pings, runs the close handshake and reports how the connection ended.
final class UpstreamFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// How long to wait for the server's close frame after sending ours.
    static let closeHandshakeTimeout: TimeAmount = .seconds(3)

    private let continuation: AsyncStream<String>.Continuation
    private let closedPromise: EventLoopPromise<UpstreamCloseInfo>
    private let pingInterval: TimeAmount?
    private let logger: Logger

    private var context: ChannelHandlerContext?
    private var closeInfo: UpstreamCloseInfo?
    private var sentClose = false
    private var receivedClose = false
    private var finished = false
    private var awaitingPong = false
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?

    init(
        continuation: AsyncStream<String>.Continuation,
        closedPromise: EventLoopPromise<UpstreamCloseInfo>,
        pingInterval: TimeAmount?,
        logger: Logger
    ) {
        self.continuation = continuation
        self.closedPromise = closedPromise
        self.pingInterval = pingInterval
        self.logger = logger
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard context.channel.isActive else {
            finish(UpstreamCloseInfo(code: nil, initiator: .transport, error: "connection closed during the upgrade"))
            return
        }
        if let pingInterval {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
                handler.value.pingTick()
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(closeInfo ?? UpstreamCloseInfo(code: nil, initiator: .transport, error: "handler removed"))
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(closeInfo ?? UpstreamCloseInfo(code: nil, initiator: .transport, error: "connection closed without a close frame"))
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            guard !receivedClose else { return }
            let data = frame.unmaskedData
            guard let text = String(validating: data.readableBytesView, as: UTF8.self) else {
                protocolFailure(.dataInconsistentWithMessage, error: "text message is not valid UTF-8")
                return
            }
            continuation.yield(text)
        case .binary:
            logger.info("dropped a binary message: OCPP-J uses text", metadata: ["ws.bytes": .stringConvertible(frame.length)])
        case .ping:
            guard !sentClose else { return }
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
        case .pong:
            awaitingPong = false
        case .connectionClose:
            receiveClose(frame, context: context)
        default:
            protocolFailure(.protocolError, error: "unexpected frame opcode \(frame.opcode)")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case let error as NIOWebSocketError:
            let code: WebSocketErrorCode = error == .invalidFrameLength ? .messageTooLarge : .protocolError
            protocolFailure(code, error: "\(error)")
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            protocolFailure(.messageTooLarge, error: "message larger than the limit")
        case let error as NIOWebSocketFrameAggregator.Error:
            protocolFailure(.protocolError, error: "\(error)")
        default:
            record(UpstreamCloseInfo(code: nil, initiator: .transport, error: "\(error)"))
            context.close(promise: nil)
        }
    }

    // MARK: Commands (on the event loop)

    /// Sends one text message, unless the close handshake has begun.
    func send(_ text: String) {
        guard let context, !sentClose, !receivedClose else {
            logger.debug("dropped an outgoing message: the connection is closing")
            return
        }
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: context.channel.allocator.buffer(string: text)))
    }

    /// Starts the close handshake; the channel closes when the server answers or after a timeout.
    func close(code: WebSocketErrorCode, reason: String?) {
        guard let context, !sentClose else { return }
        record(UpstreamCloseInfo(code: code, reason: reason, initiator: .local))
        sendClose(code: code, reason: reason, context: context)
        if receivedClose {
            context.close(promise: nil)
            return
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        closeTimer = context.eventLoop.scheduleTask(in: Self.closeHandshakeTimeout) {
            handler.value.context?.close(promise: nil)
        }
    }

    // MARK: Internals

    private func pingTick() {
        guard let context, !sentClose else { return }
        if awaitingPong {
            let seconds = Double(pingInterval?.nanoseconds ?? 0) / 1e9
            logger.info("no pong from the server; closing", metadata: ["ws.pingInterval": .stringConvertible(seconds)])
            record(UpstreamCloseInfo(code: .goingAway, initiator: .local, error: "no pong within \(seconds) s"))
            sendClose(code: .goingAway, reason: nil, context: context)
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        write(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: context.channel.allocator.buffer(string: "ocpp-bridge")))
    }

    private func receiveClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        guard !receivedClose else { return }
        receivedClose = true
        var data = frame.unmaskedData
        let code = data.readWebSocketErrorCode()
        let reason = data.readString(length: data.readableBytes)
        record(UpstreamCloseInfo(code: code, reason: reason, initiator: .remote))
        if sentClose {
            context.close(promise: nil)
        } else {
            // Echo the code (RFC 6455 §5.5.1), then close: the server has finished.
            sendClose(code: code ?? .normalClosure, reason: nil, context: context)
            context.close(promise: nil)
        }
    }

    private func protocolFailure(_ code: WebSocketErrorCode, error: String) {
        guard let context else { return }
        logger.info("closing the upstream connection", metadata: ["ws.closeCode": .stringConvertible(UInt16(webSocketErrorCode: code)), "error": .string(error)])
        record(UpstreamCloseInfo(code: code, initiator: .local, error: error))
        if !sentClose { sendClose(code: code, reason: nil, context: context) }
        context.close(promise: nil)
    }

    private func sendClose(code: WebSocketErrorCode, reason: String?, context: ChannelHandlerContext) {
        sentClose = true
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason {
            // A control frame carries at most 125 bytes: the code and up to 123 bytes of whole characters.
            var truncated = ""
            for character in reason {
                guard truncated.utf8.count + character.utf8.count <= 123 else { break }
                truncated.append(character)
            }
            data.writeString(truncated)
        }
        write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
    }

    private func write(_ frame: WebSocketFrame) {
        context?.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    /// Keeps the first explanation of the end of the connection.
    private func record(_ info: UpstreamCloseInfo) {
        if closeInfo == nil { closeInfo = info }
    }

    private func finish(_ info: UpstreamCloseInfo) {
        guard !finished else { return }
        finished = true
        record(info)
        pingTask?.cancel()
        closeTimer?.cancel()
        continuation.finish()
        closedPromise.succeed(closeInfo ?? info)
    }
}

@available(*, unavailable)
extension UpstreamFrameHandler: Sendable {}
