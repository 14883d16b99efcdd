import Foundation
import Logging
import OCPPRPC
import TagStore

/// One charge point's connection to one upstream CSMS: reconnects with backoff, relays the CSMS's CALLs
/// down to the charge point, and carries the bridge's CALLs up (one in flight at a time, like any OCPP-J
/// peer). Its state is in the tags `{cp}.Upstream.{name}.Online` and `.LastError`.
public actor UpstreamLink {
    public nonisolated let upstream: UpstreamConfiguration
    public nonisolated let isPrimary: Bool
    public nonisolated let chargePointId: String
    let version: OCPPVersion
    let connector: any UpstreamConnector
    let tags: TagService
    let callTimeout: Duration
    let logger: Logger
    /// Sends a CSMS-initiated request down to the charge point (validated) and returns its answer.
    let relayDown: @Sendable (String, JSONValue) async -> Result<JSONValue, CallFailure>

    let replayInterval: Duration
    var store: TagStore { tags.store }

    private(set) var transport: (any UpstreamTransport)?
    private var outgoing: OutgoingCalls?
    private var runTask: Task<Void, Never>?
    private var workTask: Task<Void, Never>?
    private var backoff = ReconnectBackoff()
    /// Since when the upstream has been unreachable (from the link's start until its first connection).
    private var unreachableSince: ContinuousClock.Instant? = .now
    /// Callers waiting for the outcome of the link's first connection attempt: a charge point's first
    /// messages follow its connection at once, and should not fall back to local decisions only because
    /// the link is still being opened.
    private var firstAttempt: [CheckedContinuation<Void, Never>]? = []
    /// Messages of this link's durable queue not yet delivered.
    var queued = 0
    /// Transaction messages, delivered one at a time in arrival order by the link's worker.
    nonisolated let mailbox: AsyncStream<Delivery>.Continuation
    private let deliveries: AsyncStream<Delivery>

    enum Delivery: Sendable {
        case message(action: String, payload: JSONValue, localTransactionId: Int64?, completion: (@Sendable (JSONValue?) -> Void)?)
        case replay
    }

    init(
        upstream: UpstreamConfiguration, isPrimary: Bool, chargePointId: String, version: OCPPVersion,
        connector: any UpstreamConnector, tags: TagService, callTimeout: Duration, replayInterval: Duration,
        logger: Logger, relayDown: @escaping @Sendable (String, JSONValue) async -> Result<JSONValue, CallFailure>
    ) {
        self.replayInterval = replayInterval
        (deliveries, mailbox) = AsyncStream.makeStream()
        self.upstream = upstream
        self.isPrimary = isPrimary
        self.chargePointId = chargePointId
        self.version = version
        self.connector = connector
        self.tags = tags
        self.callTimeout = callTimeout
        var logger = logger
        logger[metadataKey: "ocpp.chargePointId"] = .string(chargePointId)
        logger[metadataKey: "ocpp.upstream"] = .string(upstream.name)
        self.logger = logger
        self.relayDown = relayDown
    }

    var tagPrefix: String { "\(chargePointId).Upstream.\(upstream.name)" }

    /// Starts connecting (and reconnecting until `stop()`).
    func start() {
        guard runTask == nil else { return }
        runTask = Task { await self.run() }
        let deliveries = self.deliveries
        workTask = Task {
            await self.loadQueueDepth()
            for await delivery in deliveries { await self.work(delivery) }
        }
    }

    /// Closes the connection and stops reconnecting.
    func stop() async {
        runTask?.cancel()
        runTask = nil
        firstAttemptEnded()
        mailbox.finish()
        workTask?.cancel()
        workTask = nil
        outgoing?.close(reason: "the link was stopped")
        outgoing = nil
        if let transport {
            self.transport = nil
            await transport.close()
        }
    }

    /// Whether the upstream is connected now.
    public var isConnected: Bool { transport != nil }

    /// How long the upstream has been unreachable; nil while it is connected.
    public var unreachableFor: Duration? { unreachableSince.map { .now - $0 } }

    /// Sends a CALL to the upstream and returns its answer; fails at once when the upstream is not connected.
    public func call(action: String, payload: JSONValue) async -> Result<JSONValue, CallFailure> {
        await settleFirstAttempt()
        guard let outgoing else {
            return .failure(CallFailure(.offline, "upstream '\(upstream.name)' is not connected"))
        }
        return await outgoing.call(action: action, payload: payload, timeout: callTimeout)
    }

    /// Sends a copy of a message whose answer the bridge does not need (a notification the bridge answered
    /// itself); dropped when the upstream is not connected. Copies keep their order.
    public func post(action: String, payload: JSONValue) {
        guard let outgoing else { return }
        let logger = self.logger
        outgoing.enqueue(action: action, payload: payload, timeout: callTimeout) { result in
            if case .failure(let failure) = result {
                logger.debug("upstream did not take a copy", metadata: ["ocpp.action": .string(action), "error": .string(failure.description)])
            }
        }
    }

    private func run() async {
        var generator = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            do {
                let transport = try await connector.connect(to: upstream, chargePointId: chargePointId, version: version)
                guard !Task.isCancelled else {
                    await transport.close()
                    firstAttemptEnded()
                    return
                }
                backoff.reset()
                await serve(transport)
            } catch {
                logger.warning("upstream connection failed", metadata: ["error": .string("\(error)")])
                setState(online: false, error: "\(error)")
                firstAttemptEnded()
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: backoff.nextDelay(using: &generator))
        }
    }

    /// Waits, if the link is still making its first connection attempt, until that attempt ends.
    func settleFirstAttempt() async {
        guard outgoing == nil, firstAttempt != nil else { return }
        await withCheckedContinuation { firstAttempt?.append($0) ?? $0.resume() }
    }

    private func firstAttemptEnded() {
        guard let waiting = firstAttempt else { return }
        firstAttempt = nil
        for waiter in waiting { waiter.resume() }
    }

    private func serve(_ transport: any UpstreamTransport) async {
        let calls = OutgoingCalls(logger: logger) { transport.send($0) }
        self.transport = transport
        self.outgoing = calls
        unreachableSince = nil
        setState(online: true, error: "")
        logger.info("upstream connected")
        firstAttemptEnded()
        mailbox.yield(.replay)
        for await text in transport.messages {
            receive(text, transport: transport, calls: calls)
        }
        calls.close(reason: "upstream '\(upstream.name)' disconnected")
        if self.transport != nil {
            self.transport = nil
            self.outgoing = nil
            unreachableSince = .now
            setState(online: false, error: "connection closed")
            logger.info("upstream disconnected")
        }
    }

    private func receive(_ text: String, transport: any UpstreamTransport, calls: OutgoingCalls) {
        let message: RPCMessage
        do {
            message = try RPCMessage(parsing: text)
        } catch {
            logger.warning("bad frame from upstream", metadata: ["ocpp.reason": .string(error.reason)])
            if error.deservesAnswer {
                transport.send(RPCMessage.callError(id: error.messageId ?? "-1", error: error, version: version).text)
            }
            return
        }
        switch message {
        case .callResult(let id, let payload):
            calls.complete(id: id, with: .success(payload))
        case .callError(let id, let code, let description, let details):
            calls.complete(id: id, with: .failure(CallFailure(.callError, code: code, description, details: details)))
        case .call(let id, let action, let payload):
            guard upstream.allows(action, isPrimary: isPrimary) else {
                logger.warning("refused a CALL this upstream may not send", metadata: ["ocpp.action": .string(action)])
                let error = RPCError(.securityError, "upstream '\(upstream.name)' may not send \(action)")
                transport.send(RPCMessage.callError(id: id, error: error, version: version).text)
                return
            }
            // Relayed in a task of its own: the upstream's answers to the bridge's CALLs keep flowing meanwhile.
            let relayDown = self.relayDown
            let version = self.version
            Task {
                let reply: RPCMessage
                let payload = await self.translateDown(action: action, payload: payload)
                switch await relayDown(action, payload) {
                case .success(let answer):
                    reply = .callResult(id: id, payload: answer)
                case .failure(let failure):
                    reply = .callError(id: id, error: failure.rpcError, version: version)
                }
                transport.send(reply.text)
            }
        }
    }

    private func setState(online: Bool, error: String) {
        tags.write([
            TagWrite(name: "\(tagPrefix).Online", value: .bool(online)),
            TagWrite(name: "\(tagPrefix).LastError", value: .string(error)),
        ])
    }
}

extension CallFailure {
    /// The CALLERROR relayed to an upstream for this failure.
    var rpcError: RPCError {
        switch kind {
        case .callError: return RPCError(code ?? .genericError, reason, details: details.objectValue ?? [:])
        case .invalidRequest: return RPCError(code ?? .formationViolation, reason)
        case .unknownAction: return RPCError(.notImplemented, reason)
        case .timeout, .offline, .disconnected, .busy: return RPCError(.genericError, reason)
        }
    }
}
