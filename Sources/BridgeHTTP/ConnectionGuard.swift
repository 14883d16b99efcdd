import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Wraps a server child channel so that a connection that has not asked for its WebSocket upgrade within the
/// handshake timeout (TLS handshake and HTTP request included) is closed: a peer that opens sockets and
/// sends nothing, or one byte a minute, must not hold them forever.
struct HandshakeGuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let timeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HandshakeTimeoutHandler(timeout: timeout, logger: logger), position: .first)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Closes its channel when the timeout passes, unless `handshakeCompleted(on:)` disarmed it first.
final class HandshakeTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let timeout: Duration
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let logger = self.logger
        let timeout = self.timeout
        timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            logger.info("closed a connection that did not finish its handshake in time", metadata: [
                "net.peer": .string(channel.remoteAddress?.description ?? "?"), "ocpp.limit": .stringConvertible(timeout),
            ])
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    /// Disarms the guard of `channel` (on its event loop): its upgrade request arrived in time.
    static func handshakeCompleted(on channel: any Channel) {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: HandshakeTimeoutHandler.self) else { return }
        handler.timer?.cancel()
        handler.timer = nil
    }
}

/// The open OCPP connections, against `maxConnections`.
final class ConnectionCount: Sendable {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func opened() { count.add(1, ordering: .relaxed) }
    func closed() { count.subtract(1, ordering: .relaxed) }
}

/// When a connection last received an OCPP message, for the idle timeout.
final class LastMessageTime: Sendable {
    private let time = Mutex(ContinuousClock.now)

    func touch() { time.withLock { $0 = .now } }
    var silence: Duration { ContinuousClock.now - time.withLock { $0 } }
}
