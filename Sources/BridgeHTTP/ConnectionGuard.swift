import Bridge
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
            // OCPP messages are mostly well under 1 KiB: a connection's receive buffer starts at 512 bytes (NIO's
            // default 2 KiB, kept per connection, is 15 MiB for 10,000 charge points) and grows for larger ones.
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
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

/// The open OCPP connections: their number, against `maxConnections`, and when each last received a message,
/// for the idle timeout. One task sweeps them all a few times per timeout, so an idle connection costs no task
/// and no timer of its own (docs/performance.md).
final class OpenConnections: Sendable {
    /// One connection: its session and the time of its last message.
    final class Entry: Sendable {
        let session: ChargePointSession
        /// Nanoseconds from `origin` to the last message.
        private let last = Atomic<Int64>(0)
        private static let origin = ContinuousClock.now

        fileprivate init(session: ChargePointSession) {
            self.session = session
            touch()
        }

        /// Records a message received now.
        func touch() {
            let elapsed = ContinuousClock.now - Self.origin
            last.store(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000, ordering: .relaxed)
        }

        /// How long since the last message.
        var silence: Duration {
            (ContinuousClock.now - Self.origin) - .nanoseconds(last.load(ordering: .relaxed))
        }
    }

    private let count = Atomic<Int>(0)
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// Open connections, counted from the decision to upgrade until the channel closes.
    var value: Int { count.load(ordering: .relaxed) }

    /// Counts one more connection if fewer than `limit` are open; false (nothing counted) otherwise. The check and
    /// the count are one atomic step, taken when the upgrade is decided: a count taken later, once the upgrade
    /// completed, let a peer that connects again as soon as it saw its 101 past the limit.
    func reserve(below limit: Int) -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Uncounts a connection `reserve` counted.
    func release() { count.subtract(1, ordering: .relaxed) }

    /// Starts watching a session's silence.
    func watch(_ session: ChargePointSession) -> Entry {
        let entry = Entry(session: session)
        entries.withLock { $0[ObjectIdentifier(entry)] = entry }
        return entry
    }

    /// Stops watching a connection.
    func forget(_ entry: Entry) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(entry)) }
    }

    /// The watched connections silent for `timeout` or longer, no longer watched.
    func expired(after timeout: Duration) -> [Entry] {
        entries.withLock { entries in
            let idle = entries.values.filter { $0.silence >= timeout }
            for entry in idle { entries.removeValue(forKey: ObjectIdentifier(entry)) }
            return idle
        }
    }

    /// Closes connections silent for `timeout` (1008), checking a few times per timeout, for as long as this
    /// object lives.
    static func sweep(_ connections: OpenConnections, timeout: Duration, logger: Logger) {
        let step = min(timeout / 4, .seconds(5))
        Task { [weak connections] in
            while !Task.isCancelled {
                try? await Task.sleep(for: step)
                guard let connections else { return }
                for entry in connections.expired(after: timeout) {
                    logger.warning("no OCPP message within the idle timeout; disconnecting", metadata: [
                        "ocpp.chargePointId": .string(entry.session.chargePointId), "ocpp.limit": .stringConvertible(timeout),
                    ])
                    entry.session.close(.policyViolation("idle for \(timeout)"))
                }
            }
        }
    }
}
