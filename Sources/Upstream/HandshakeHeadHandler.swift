import NIOCore
import NIOHTTP1

/// Sits between the HTTP codec and NIO's client upgrade handler during the handshake: it rewrites the
/// request's `Connection` header to the standard `Connection: Upgrade` (NIO writes `upgrade`) and records
/// the response head, so a refused upgrade can report its HTTP status.
final class HandshakeHeadHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The first response head received.
    private(set) var responseHead: HTTPResponseHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once the head is recorded nothing is unwrapped: when the HTTP decoder is removed after a 101 it
        // forwards the leftover bytes (already WebSocket frames) through here as raw `ByteBuffer`s.
        if responseHead == nil, case .head(let head) = Self.unwrapInboundIn(data) {
            responseHead = head
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = Self.unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        head.headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        head.headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        context.write(Self.wrapOutboundOut(.head(head)), promise: promise)
    }
}

@available(*, unavailable)
extension HandshakeHeadHandler: Sendable {}
