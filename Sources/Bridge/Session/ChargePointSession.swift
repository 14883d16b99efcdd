import Foundation
import Logging
import OCPPRPC
import Synchronization

/// One WebSocket connection of one charge point: decodes frames, serialises the CALLs the charge point sends
/// through the handler, and runs the bridge's own CALLs one at a time with a timeout.
public actor ChargePointSession {
    public nonisolated let chargePointId: String
    public nonisolated let version: OCPPVersion
    public nonisolated let connectedSince: Date
    /// Distinguishes this connection from an earlier or later one of the same charge point.
    public nonisolated let connectionNumber: UInt64
    nonisolated let connection: any ChargePointConnection
    nonisolated let logger: Logger
    nonisolated let handler: any IncomingCallHandler
    nonisolated let outgoing: OutgoingCalls

    private var isClosed = false
    nonisolated let limits: SessionLimits
    private var budget: MessageBudget
    /// CALLs from the charge point received and not answered yet (decremented by the answering task without a
    /// hop back to the actor).
    private nonisolated let pendingIncoming = Atomic<Int>(0)
    private var lastRefusalLog: ContinuousClock.Instant?
    private var refusedSinceLog = 0
    private let started = ContinuousClock.now
    /// CALLs from the charge point waiting for the answering task, in arrival order.
    private var incoming: [IncomingCall] = []
    private var isStarted = false
    /// Whether a task is answering `incoming`. It exists only while there are CALLs to answer: a task keeps
    /// the memory of its deepest call chain until it ends, which a task per connection would hold forever
    /// (about 10 KiB per connection; docs/performance.md).
    private var answering = false

    struct IncomingCall: Sendable {
        var id: String
        var action: String
        var payload: JSONValue
    }

    public init(
        chargePointId: String, version: OCPPVersion, connectionNumber: UInt64,
        connection: any ChargePointConnection, handler: any IncomingCallHandler, limits: SessionLimits = SessionLimits(),
        logger: Logger
    ) {
        self.limits = limits
        self.budget = MessageBudget(limits: limits)
        self.chargePointId = chargePointId
        self.version = version
        self.connectionNumber = connectionNumber
        self.connectedSince = Date()
        self.connection = connection
        self.handler = handler
        var logger = logger
        logger[metadataKey: "ocpp.chargePointId"] = .string(chargePointId)
        self.logger = logger
        self.outgoing = OutgoingCalls(maxQueued: limits.maxQueuedCalls, logger: logger) { text in connection.send(text) }
    }

    /// Starts answering the charge point's CALLs, one at a time in arrival order.
    public func start() {
        guard !isStarted else { return }
        isStarted = true
        answerQueued()
    }

    /// Starts a task that answers the queued CALLs and ends when none is left, unless one is running.
    private func answerQueued() {
        guard isStarted, !answering, !incoming.isEmpty else { return }
        answering = true
        Task { await Self.answer(self) }
    }

    /// The next CALL to answer; nil (and the answering task ends) when none is queued.
    private func nextCall() -> IncomingCall? {
        guard !incoming.isEmpty else {
            answering = false
            return nil
        }
        return incoming.removeFirst()
    }

    /// Answers queued CALLs until none is left.
    private static func answer(_ session: ChargePointSession) async {
        while let call = await session.nextCall() {
            let result = await session.handler.handle(action: call.action, payload: call.payload, session: session)
            let reply: RPCMessage
            switch result {
            case .success(let payload):
                reply = .callResult(id: call.id, payload: payload)
            case .failure(let error):
                reply = .callError(id: call.id, error: error, version: session.version)
                session.logger.info(
                    "answered CALLERROR",
                    metadata: [
                        "ocpp.action": .string(call.action), "ocpp.messageId": .string(call.id),
                        "ocpp.error": .string(error.errorCode(for: session.version).rawValue),
                        "ocpp.reason": .string(error.errorDescription),
                    ])
            }
            session.connection.send(reply.text)
            session.pendingIncoming.subtract(1, ordering: .relaxed)
        }
    }

    /// Handles one text frame from the charge point.
    public func receive(_ bytes: some Collection<UInt8>) {
        let message: RPCMessage
        do {
            message = try RPCMessage(parsing: bytes)
        } catch {
            logger.warning("bad frame", metadata: ["ocpp.reason": .string(error.reason)])
            if error.deservesAnswer {
                let reply = RPCMessage.callError(id: error.messageId ?? "-1", error: error, version: version)
                connection.send(reply.text)
            }
            return
        }
        let elapsed = ContinuousClock.now - started
        switch budget.spend(at: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) {
        case .accept:
            break
        case .refuse:
            refuse(message, because: "rate limit: more than \(limits.messagesPerSecond) messages per second")
            return
        case .disconnect:
            logger.warning("message flood; disconnecting", metadata: ["ocpp.limit": .stringConvertible(limits.messagesPerSecond)])
            close(.policyViolation("message flood"))
            return
        }
        switch message {
        case .call(let id, let action, let payload):
            let pending = pendingIncoming.load(ordering: .relaxed)
            guard pending < limits.maxPendingCalls else {
                refuse(message, because: "\(pending) CALLs are waiting for their answer; OCPP-J allows one at a time")
                return
            }
            pendingIncoming.add(1, ordering: .relaxed)
            incoming.append(IncomingCall(id: id, action: action, payload: payload))
            answerQueued()
        case .callResult(let id, let payload):
            outgoing.complete(id: id, with: .success(payload))
        case .callError(let id, let code, let description, let details):
            outgoing.complete(id: id, with: .failure(CallFailure(.callError, code: code, description, details: details)))
        }
    }

    /// Answers a refused CALL with a GenericError CALLERROR (other messages are dropped), logging at most once
    /// a second with the number refused.
    private func refuse(_ message: RPCMessage, because reason: String) {
        if case .call(let id, _, _) = message {
            connection.send(RPCMessage.callError(id: id, error: RPCError(.genericError, reason), version: version).text)
        }
        refusedSinceLog += 1
        let now = ContinuousClock.now
        if let last = lastRefusalLog, now - last < .seconds(1) { return }
        logger.warning("refused messages over a limit", metadata: ["ocpp.reason": .string(reason), "ocpp.refused": .stringConvertible(refusedSinceLog)])
        lastRefusalLog = now
        refusedSinceLog = 0
    }

    /// Sends a CALL to the charge point and waits for its answer, at most `timeout` from now (queueing included).
    public nonisolated func call(action: String, payload: JSONValue, timeout: Duration) async -> Result<JSONValue, CallFailure> {
        await outgoing.call(action: action, payload: payload, timeout: timeout)
    }

    /// How many of the bridge's CALLs are waiting or in flight.
    public nonisolated var pendingCalls: Int { outgoing.count }

    /// The connection ended: fails every pending CALL and stops answering.
    public func closed() {
        guard !isClosed else { return }
        isClosed = true
        outgoing.close(reason: "the charge point disconnected")
    }

    /// Closes the WebSocket (the bridge's decision), then behaves as `closed()`.
    public func close(_ reason: SessionCloseReason) {
        connection.close(reason)
        closed()
    }
}
