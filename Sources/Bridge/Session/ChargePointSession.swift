import Foundation
import Logging
import OCPPRPC
import Synchronization

/// One WebSocket connection of one charge point: decodes frames, serialises the CALLs the charge point sends
/// through the handler, and runs the bridge's own CALLs one at a time with a timeout.
///
/// Its few pieces of state sit behind one lock, so the connection's event loop hands it a frame with a plain
/// call, in order, without an actor hop (docs/performance.md).
public final class ChargePointSession: Sendable {
    public let chargePointId: String
    public let version: OCPPVersion
    public let connectedSince: Date
    /// Distinguishes this connection from an earlier or later one of the same charge point.
    public let connectionNumber: UInt64
    let connection: any ChargePointConnection
    let logger: Logger
    let handler: any IncomingCallHandler
    let outgoing: OutgoingCalls
    let limits: SessionLimits
    private let started = ContinuousClock.now
    private let state: Mutex<State>

    struct IncomingCall: Sendable {
        var id: String
        var action: String
        var payload: JSONValue
    }

    private struct State: Sendable {
        var isClosed = false
        var isStarted = false
        var budget: MessageBudget
        var lastRefusalLog: ContinuousClock.Instant?
        var refusedSinceLog = 0
        /// CALLs from the charge point not answered yet, in arrival order; the one being answered stays first.
        var incoming: [IncomingCall] = []
        /// Whether `incoming` is being answered, at once or by a task. The task exists only while there are CALLs
        /// to answer: a task keeps the memory of its deepest call chain until it ends, which a task per
        /// connection would hold forever (about 10 KiB per connection; docs/performance.md).
        var answering = false

        /// Marks the answering as running if it should start now.
        mutating func claimAnswering() -> Bool {
            guard isStarted, !answering, !incoming.isEmpty else { return false }
            answering = true
            return true
        }

        /// The CALL to answer next, left at the head of the queue until answered; nil (and the answering
        /// stops) when none is queued.
        mutating func firstIncomingOrStopAnswering() -> IncomingCall? {
            guard let first = incoming.first else {
                answering = false
                return nil
            }
            return first
        }

        /// Counts one refused message; returns the number refused since the last log line when a new line is due
        /// (at most one a second).
        mutating func countRefusal() -> Int? {
            refusedSinceLog += 1
            let now = ContinuousClock.now
            if let last = lastRefusalLog, now - last < .seconds(1) { return nil }
            lastRefusalLog = now
            defer { refusedSinceLog = 0 }
            return refusedSinceLog
        }
    }

    public init(
        chargePointId: String, version: OCPPVersion, connectionNumber: UInt64,
        connection: any ChargePointConnection, handler: any IncomingCallHandler, limits: SessionLimits = SessionLimits(),
        logger: Logger
    ) {
        self.limits = limits
        self.state = Mutex(State(budget: MessageBudget(limits: limits)))
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
        let answer = state.withLock { state in
            state.isStarted = true
            return state.claimAnswering()
        }
        if answer { answerQueued() }
    }

    /// Answers the queued CALLs from `first` on (the caller claimed the answering): on the caller's thread while
    /// the handler can answer them without a task, then with a task that ends when none is left. A CALL answered
    /// at once costs no task, no hop and no suspension; a decided one is answered, and the CALLs queued behind it
    /// are answered, on the decider's thread (docs/performance.md).
    private func answerQueued(from first: IncomingCall? = nil) {
        var next = first ?? state.withLock { $0.firstIncomingOrStopAnswering() }
        while let call = next {
            let answer = handler.answerWithoutTask(action: call.action, payload: call.payload, session: self) { result in
                if let next = self.reply(to: call, with: result) { self.answerQueued(from: next) }
            }
            switch answer {
            case .now(let result)?:
                next = reply(to: call, with: result)
            case .later?:
                return
            case nil:
                Task { await Self.answer(self) }
                return
            }
        }
    }

    /// Answers queued CALLs until none is left.
    private static func answer(_ session: ChargePointSession) async {
        var next = session.state.withLock { $0.firstIncomingOrStopAnswering() }
        while let call = next {
            let result = await session.handler.handle(action: call.action, payload: call.payload, session: session)
            next = session.reply(to: call, with: result)
        }
    }

    /// Sends the answer to the CALL at the head of the queue, which then leaves it; returns the next CALL to
    /// answer (nil, and the answering stops, when none is queued).
    private func reply(to call: IncomingCall, with result: Result<JSONValue, RPCError>) -> IncomingCall? {
        let reply: RPCMessage
        switch result {
        case .success(let payload):
            reply = .callResult(id: call.id, payload: payload)
        case .failure(let error):
            reply = .callError(id: call.id, error: error, version: version)
            logger.info(
                "answered CALLERROR",
                metadata: [
                    "ocpp.action": .string(call.action), "ocpp.messageId": .string(call.id),
                    "ocpp.error": .string(error.errorCode(for: version).rawValue),
                    "ocpp.reason": .string(error.errorDescription),
                ])
        }
        connection.send(reply.text)
        return state.withLock { state in
            state.incoming.removeFirst()
            return state.firstIncomingOrStopAnswering()
        }
    }

    /// What `receive` does with a message once the budget and the queue have had their say.
    private enum Admission {
        case queued(startAnswering: Bool)
        case refused(String, log: Int?)
        case flood
    }

    /// Handles one text frame from the charge point. Frames must arrive in order: the connection's event loop
    /// calls this for each one before reading the next.
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
        let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        switch message {
        case .call(let id, let action, let payload):
            let admission = state.withLock { state -> Admission in
                switch state.budget.spend(at: now) {
                case .accept:
                    break
                case .refuse:
                    let reason = "rate limit: more than \(limits.messagesPerSecond) messages per second"
                    return .refused(reason, log: state.countRefusal())
                case .disconnect:
                    return .flood
                }
                guard state.incoming.count < limits.maxPendingCalls else {
                    let reason = "\(state.incoming.count) CALLs are waiting for their answer; OCPP-J allows one at a time"
                    return .refused(reason, log: state.countRefusal())
                }
                state.incoming.append(IncomingCall(id: id, action: action, payload: payload))
                return .queued(startAnswering: state.claimAnswering())
            }
            switch admission {
            case .queued(let startAnswering):
                if startAnswering { answerQueued() }
            case .refused(let reason, let log):
                connection.send(RPCMessage.callError(id: id, error: RPCError(.genericError, reason), version: version).text)
                logRefusals(reason, count: log)
            case .flood:
                flood()
            }
        case .callResult, .callError:
            let verdict = state.withLock { state -> (MessageBudget.Verdict, Int?) in
                let verdict = state.budget.spend(at: now)
                return (verdict, verdict == .refuse ? state.countRefusal() : nil)
            }
            switch verdict.0 {
            case .accept:
                break
            case .refuse:
                // An answer over the budget is dropped.
                logRefusals("rate limit: more than \(limits.messagesPerSecond) messages per second", count: verdict.1)
                return
            case .disconnect:
                flood()
                return
            }
            if case .callResult(let id, let payload) = message {
                outgoing.complete(id: id, with: .success(payload))
            } else if case .callError(let id, let code, let description, let details) = message {
                outgoing.complete(id: id, with: .failure(CallFailure(.callError, code: code, description, details: details)))
            }
        }
    }

    private func flood() {
        logger.warning("message flood; disconnecting", metadata: ["ocpp.limit": .stringConvertible(limits.messagesPerSecond)])
        close(.policyViolation("message flood"))
    }

    /// Logs refused messages at most once a second, with the number refused (`count`: nil when not due yet).
    private func logRefusals(_ reason: String, count: Int?) {
        guard let count else { return }
        logger.warning("refused messages over a limit", metadata: ["ocpp.reason": .string(reason), "ocpp.refused": .stringConvertible(count)])
    }

    /// Sends a CALL to the charge point and waits for its answer, at most `timeout` from now (queueing included).
    public func call(action: String, payload: JSONValue, timeout: Duration) async -> Result<JSONValue, CallFailure> {
        await outgoing.call(action: action, payload: payload, timeout: timeout)
    }

    /// How many of the bridge's CALLs are waiting or in flight.
    public var pendingCalls: Int { outgoing.count }

    /// The connection ended: fails every pending CALL and stops answering.
    public func closed() {
        let first = state.withLock { state in
            defer { state.isClosed = true }
            return !state.isClosed
        }
        guard first else { return }
        outgoing.close(reason: "the charge point disconnected")
    }

    /// Closes the WebSocket (the bridge's decision), then behaves as `closed()`.
    public func close(_ reason: SessionCloseReason) {
        connection.close(reason)
        closed()
    }
}
