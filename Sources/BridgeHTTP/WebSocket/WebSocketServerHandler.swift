import Logging
import NIOCore
import NIOWebSocket

/// Receives one WebSocket connection's messages, on the channel's event loop, in order.
package protocol WebSocketReceiver: AnyObject {
    /// A complete text message (fragments reassembled), unmasked. Not validated as UTF-8.
    func received(text: ByteBuffer)
    /// A complete binary message, unmasked.
    func received(binary: ByteBuffer)
    /// The connection ended (called exactly once, after the channel became inactive, whatever the reason).
    func closed()
}

/// Limits of one connection.
package struct WebSocketServerLimits: Sendable {
    /// The largest message (after reassembly) and the largest frame; larger ones close the connection with 1009.
    package var maxMessageSize: Int
    /// How often to ping the peer; nil: no automatic pings. A peer from which nothing at all arrived between two
    /// pings is closed with 1001.
    package var pingInterval: Duration?
    /// How long to wait for the peer's close frame after ours before closing the channel anyway.
    package var closeTimeout: Duration

    package init(maxMessageSize: Int, pingInterval: Duration?, closeTimeout: Duration) {
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
    }
}

/// A handle on one upgraded connection, usable from any thread.
package struct WebSocketServerConnection: Sendable {
    package let channel: any Channel
    /// The connection's handler; only touched on the channel's event loop.
    let handler: NIOLoopBound<WebSocketServerHandler>

    /// Sends one text message as a single unmasked FIN text frame. Dropped (no error, no crash) once the closing
    /// handshake started or the channel closed.
    ///
    /// This is the hot path: one buffer for the payload, one `writeAndFlush`. `Channel.writeAndFlush` hops to the
    /// event loop by itself when called from elsewhere, and the handler drops the frame there if the connection
    /// is closing, in order with its own close frame.
    package func send(text: String) {
        let payload = channel.allocator.buffer(string: text)
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: payload), promise: nil)
    }

    /// Starts the closing handshake with `code` and `reason` (truncated to 123 bytes of UTF-8, on a character
    /// boundary): the close frame goes out at once, further messages are not delivered, and the channel closes when
    /// the peer's close frame arrives or after the close timeout. Does nothing if a close frame was already sent
    /// or the connection ended.
    package func close(code: WebSocketErrorCode, reason: String) {
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            handler.value.close(code: code, reason: reason)
        } else {
            channel.eventLoop.execute { handler.value.close(code: code, reason: reason) }
        }
    }
}

/// The server side of one WebSocket connection (RFC 6455), installed after NIO's frame encoder and decoder.
///
/// Reassembles fragmented messages and hands complete ones to the receiver; answers pings; runs the closing
/// handshake either way; pings the peer and closes it when nothing arrives from it; fails the connection (close
/// frame 1002 or 1009, then the channel closes) on frames a server must refuse. It also sits on the outbound path
/// so that frames sent through the connection after the closing handshake started are dropped.
///
/// Every piece of state is touched on the channel's event loop only: no locks, and no task.
final class WebSocketServerHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Where the connection is in its life.
    enum State: Equatable {
        /// Messages flow both ways.
        case open
        /// We sent our close frame and wait for the peer's (or the close timeout, or the write to complete).
        case closing
        /// The closing handshake is over (we answered the peer's close) or the channel went inactive.
        case closed
    }

    /// A fragmented message being reassembled.
    private struct PartialMessage {
        var isText: Bool
        var buffer: ByteBuffer
    }

    private let limits: WebSocketServerLimits
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var receiver: (any WebSocketReceiver)?
    private(set) var state = State.open
    private var message: PartialMessage?

    /// Something arrived from the peer since the last automatic ping.
    private var heardFromPeer = false
    /// An automatic ping was sent and the next tick must find `heardFromPeer` set.
    private var pingOutstanding = false
    private var pingCount: UInt32 = 0
    private var pingTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?

    /// The channel went inactive (or the handler left the pipeline).
    private var ended = false
    /// `receiver.closed()` was called (by `end()`, or by `attach(_:)` when the connection had already ended).
    private var closedReported = false

    /// A handler for one connection; `attach(_:)` gives it its receiver.
    init(limits: WebSocketServerLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Hands the connection's messages to `receiver` from now on. If the connection already ended, the receiver
    /// hears `closed()` at once.
    func attach(_ receiver: any WebSocketReceiver) {
        self.receiver = receiver
        if ended { reportClosed() }
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            schedulePing(context: context)
        } else {
            ended = true
            state = .closed
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    /// The channel is gone: stops the timers and tells the receiver, once.
    private func end() {
        state = .closed
        message = nil
        pingTimer?.cancel()
        pingTimer = nil
        closeTimer?.cancel()
        closeTimer = nil
        ended = true
        reportClosed()
    }

    private func reportClosed() {
        guard !closedReported, let receiver else { return }
        closedReported = true
        self.receiver = nil  // the receiver may hold the connection, which holds this handler
        receiver.closed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            close(code: .goingAway, reason: "the server is shutting down")
        case let event as ChannelEvent where event == .inputClosed:
            // The peer will send nothing more: no close frame can arrive.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            switch error {
            case .invalidFrameLength:
                fail(.messageTooLarge, reason: "frame too large")
            default:
                fail(.protocolError, reason: "invalid frame")
            }
            return
        }
        logger.debug("WebSocket connection error", metadata: ["error": .string("\(error)")])
        // When a close is already under way, its own write or timer ends the channel.
        if state == .open { context.close(promise: nil) }
    }

    // MARK: Outbound

    /// Passes frames written through the channel (the connection's sends) while the connection is open; drops
    /// them once the closing handshake started. The handler's own frames do not pass here.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if state == .open {
            context.write(data, promise: promise)
        } else {
            promise?.fail(ChannelError.outputClosed)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        heardFromPeer = true
        guard state != .closed else { return }
        guard frame.maskKey != nil else { return fail(.protocolError, reason: "unmasked frame") }
        guard !frame.rsv1, !frame.rsv2, !frame.rsv3 else { return fail(.protocolError, reason: "reserved bits set") }
        switch frame.opcode {
        case .text, .binary:
            guard state == .open else { return }
            guard message == nil else { return fail(.protocolError, reason: "new message inside a fragmented one") }
            guard frame.length <= limits.maxMessageSize else { return fail(.messageTooLarge, reason: "message too large") }
            if frame.fin {
                deliver(isText: frame.opcode == .text, frame.unmaskedData)
            } else {
                message = PartialMessage(isText: frame.opcode == .text, buffer: frame.unmaskedData)
            }
        case .continuation:
            guard state == .open else { return }
            guard var partial = message else { return fail(.protocolError, reason: "continuation without a message") }
            guard partial.buffer.readableBytes + frame.length <= limits.maxMessageSize else {
                return fail(.messageTooLarge, reason: "message too large")
            }
            message = nil  // keeps the buffer uniquely referenced while it grows
            partial.buffer.appendUnmasking(frame)
            if frame.fin {
                deliver(isText: partial.isText, partial.buffer)
            } else {
                message = partial
            }
        case .ping:
            guard Self.isValidControl(frame) else { return fail(.protocolError, reason: "invalid control frame") }
            if state == .open {
                context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
            }
        case .pong:
            guard Self.isValidControl(frame) else { return fail(.protocolError, reason: "invalid control frame") }
        case .connectionClose:
            guard Self.isValidControl(frame) else { return fail(.protocolError, reason: "invalid control frame") }
            peerClosed(frame, context: context)
        default:
            fail(.protocolError, reason: "unknown opcode")
        }
    }

    private func deliver(isText: Bool, _ payload: ByteBuffer) {
        guard let receiver else { return }
        if isText {
            receiver.received(text: payload)
        } else {
            receiver.received(binary: payload)
        }
    }

    /// Control frames may not be fragmented nor carry more than 125 bytes.
    private static func isValidControl(_ frame: WebSocketFrame) -> Bool {
        frame.fin && frame.length <= 125
    }

    /// The peer's close frame: answers it (echoing its code) unless we sent ours already, then closes the channel.
    private func peerClosed(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch state {
        case .open:
            message = nil
            var payload = frame.unmaskedData
            let code: UInt16
            switch payload.readableBytes {
            case 0: code = 1000
            case 1: code = 1002
            default:
                let received = payload.readInteger(as: UInt16.self)!
                code = Self.isValidReceivedCloseCode(received) ? received : 1002
            }
            sendClose(code: code, reason: "", then: .closed, context: context)
        case .closing:
            state = .closed
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    /// Close codes a peer may send (RFC 6455 7.4, plus IANA's 1012-1014 and the private 3000-4999).
    static func isValidReceivedCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    // MARK: Closing

    /// Starts the closing handshake: sends our close frame, stops delivering messages and closes the channel when
    /// the peer's close frame arrives or after the close timeout. Idempotent.
    func close(code: WebSocketErrorCode, reason: String) {
        guard state == .open, let context else { return }
        message = nil
        sendClose(code: UInt16(webSocketErrorCode: code), reason: reason, then: .closing, context: context)
    }

    /// Fails the connection: sends a close frame with `code` and closes the channel once it is written (or after
    /// the close timeout if the write never completes). Data from the peer is no longer processed. If our close
    /// frame went out already, just closes the channel.
    private func fail(_ code: WebSocketErrorCode, reason: String) {
        guard let context else { return }
        logger.debug("failing a WebSocket connection", metadata: ["ws.close.code": .stringConvertible(UInt16(webSocketErrorCode: code)), "ws.close.reason": .string(reason)])
        guard state == .open else {
            state = .closed
            context.close(promise: nil)
            return
        }
        message = nil
        sendClose(code: UInt16(webSocketErrorCode: code), reason: reason, then: .closed, context: context)
    }

    /// Writes a close frame. With `then: .closed` the channel closes as soon as the frame is written; with
    /// `.closing` it waits for the peer's close frame. Either way it closes after the close timeout at the latest.
    private func sendClose(code: UInt16, reason: String, then next: State, context: ChannelHandlerContext) {
        state = next
        pingTimer?.cancel()
        pingTimer = nil
        let reasonBytes = Self.truncated(reason, toUTF8Count: 123)
        var payload = context.channel.allocator.buffer(capacity: 2 + reasonBytes.utf8.count)
        payload.writeInteger(code)
        payload.writeSubstring(reasonBytes)
        let written = context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)))
        let channel = context.channel
        if next == .closed {
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        closeTimer = context.eventLoop.scheduleTask(in: TimeAmount(limits.closeTimeout)) { channel.close(promise: nil) }
    }

    /// The longest prefix of `text`, cut on a character boundary, whose UTF-8 fits in `limit` bytes.
    static func truncated(_ text: String, toUTF8Count limit: Int) -> Substring {
        guard text.utf8.count > limit else { return text[...] }
        var count = 0
        var end = text.startIndex
        for index in text.indices {
            let next = text.index(after: index)
            count += text.utf8.distance(from: index, to: next)
            guard count <= limit else { break }
            end = next
        }
        return text[..<end]
    }

    // MARK: Automatic pings

    private func schedulePing(context: ChannelHandlerContext) {
        guard let interval = limits.pingInterval else { return }
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(interval)) { [weak self] in
            guard let self else { return }
            self.pingTick()
        }
    }

    /// Closes the connection if nothing arrived since the previous ping; otherwise pings again.
    private func pingTick() {
        pingTimer = nil
        guard state == .open, let context else { return }
        if pingOutstanding && !heardFromPeer {
            return fail(.goingAway, reason: "ping timeout")
        }
        heardFromPeer = false
        pingOutstanding = true
        pingCount &+= 1
        var payload = context.channel.allocator.buffer(capacity: 4)
        payload.writeInteger(pingCount)
        context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        schedulePing(context: context)
    }
}

@available(*, unavailable)
extension WebSocketServerHandler: Sendable {}

extension ByteBuffer {
    /// Appends the frame's payload, unmasking it in place: one copy, straight into the message being reassembled.
    fileprivate mutating func appendUnmasking(_ frame: WebSocketFrame) {
        var payload = frame.data
        let start = writerIndex - readerIndex
        writeBuffer(&payload)
        guard let key = frame.maskKey else { return }
        withUnsafeMutableReadableBytes { bytes in
            for offset in 0..<(bytes.count - start) {
                bytes[start + offset] ^= key[offset % 4]
            }
        }
    }
}
