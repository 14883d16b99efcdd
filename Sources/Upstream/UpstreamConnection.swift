import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket

/// One WebSocket connection to an upstream CSMS, for one charge point.
public final class UpstreamConnection: Sendable {
    /// The subprotocol the server chose, or `nil` when it answered none (the caller decides what to do).
    public let subprotocol: String?
    /// Text messages from the server, in order; the stream finishes when the connection ends.
    public let messages: AsyncStream<String>

    private let channel: any Channel
    private let handler: NIOLoopBound<UpstreamFrameHandler>
    private let closed: EventLoopFuture<UpstreamCloseInfo>

    init(
        subprotocol: String?, messages: AsyncStream<String>, channel: any Channel,
        handler: NIOLoopBound<UpstreamFrameHandler>, closed: EventLoopFuture<UpstreamCloseInfo>
    ) {
        self.subprotocol = subprotocol
        self.messages = messages
        self.channel = channel
        self.handler = handler
        self.closed = closed
    }

    /// Queues a text message; messages are written in the order they are queued, and dropped once closing.
    public func send(_ text: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.send(text) }
    }

    /// Runs the close handshake and returns when the connection has ended.
    public func close(code: WebSocketErrorCode = .normalClosure, reason: String? = nil) async {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.close(code: code, reason: reason) }
        _ = await waitUntilClosed()
    }

    /// Waits for the end of the connection and says how it ended.
    public func waitUntilClosed() async -> UpstreamCloseInfo {
        do {
            return try await closed.get()
        } catch {
            return UpstreamCloseInfo(code: nil, initiator: .transport, error: "\(error)")
        }
    }

    /// The local and remote addresses, for logs.
    public var addressDescription: String {
        "\(channel.localAddress.map { "\($0)" } ?? "?") -> \(channel.remoteAddress.map { "\($0)" } ?? "?")"
    }
}
