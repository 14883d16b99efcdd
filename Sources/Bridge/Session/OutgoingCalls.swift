import Logging
import OCPPRPC
import Synchronization

/// The CALLs one side of a connection sends to its peer, each awaiting its answer: one in flight at a time
/// (OCPP-J §4.1.1), the rest waiting in order, each with a timeout that counts from the moment it is queued.
///
/// Used for the bridge's CALLs to a charge point and for its CALLs to an upstream CSMS. `OutgoingCallQueue`
/// decides what goes on the wire; this class keeps the waiting callers and the timers.
package final class OutgoingCalls: Sendable {
    package typealias Completion = @Sendable (Result<JSONValue, CallFailure>) -> Void

    private struct State {
        var queue = OutgoingCallQueue()
        var waiters: [String: Completion] = [:]
        var timers: [String: Task<Void, Never>] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let ids: MessageIDGenerator
    private let transmit: @Sendable (String) -> Void
    private let logger: Logger
    private let maxQueued: Int

    /// - Parameters:
    ///   - maxQueued: how many CALLs may wait or be in flight; more fail at once with `.busy`.
    ///   - transmit: puts one frame on the wire; must not block.
    package init(
        ids: MessageIDGenerator = MessageIDGenerator(), maxQueued: Int = .max, logger: Logger,
        transmit: @escaping @Sendable (String) -> Void
    ) {
        self.ids = ids
        self.maxQueued = maxQueued
        self.logger = logger
        self.transmit = transmit
    }

    /// Sends a CALL when its turn comes and returns the answer, a CALLERROR, or a timeout.
    package func call(action: String, payload: JSONValue, timeout: Duration) async -> Result<JSONValue, CallFailure> {
        await withCheckedContinuation { continuation in
            enqueue(action: action, payload: payload, timeout: timeout) { continuation.resume(returning: $0) }
        }
    }

    /// Queues a CALL at once (so calls queued one after another go out in that order) and hands its outcome
    /// to `completion`.
    package func enqueue(
        action: String, payload: JSONValue, timeout: Duration,
        completion: @escaping @Sendable (Result<JSONValue, CallFailure>) -> Void
    ) {
        let call = OutgoingCallQueue.Call(id: ids.next(), action: action, payload: payload)
        let (accepted, sendNow) = state.withLock { state -> (CallFailure?, OutgoingCallQueue.Call?) in
            guard !state.closed else { return (CallFailure(.disconnected, "the connection is closed"), nil) }
            guard state.queue.count < maxQueued else {
                return (CallFailure(.busy, "\(state.queue.count) CALLs are already queued for this peer"), nil)
            }
            state.waiters[call.id] = completion
            state.timers[call.id] = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                self?.timedOut(id: call.id)
            }
            return (nil, state.queue.enqueue(call))
        }
        if let refused = accepted {
            completion(.failure(refused))
            return
        }
        if let sendNow { send(sendNow) }
    }

    /// An answer arrived; returns false (and changes nothing) when `id` is not the call in flight.
    @discardableResult
    package func complete(id: String, with result: Result<JSONValue, CallFailure>) -> Bool {
        let (continuation, next) = state.withLock { state -> (Completion?, OutgoingCallQueue.Call?) in
            let (completed, next) = state.queue.complete(id: id)
            guard completed != nil else { return (nil, nil) }
            state.timers.removeValue(forKey: id)?.cancel()
            return (state.waiters.removeValue(forKey: id), next)
        }
        guard let continuation else {
            logger.warning("dropped an answer with an unknown message id", metadata: ["ocpp.messageId": .string(id)])
            return false
        }
        continuation(result)
        if let next { send(next) }
        return true
    }

    /// The connection ended: every pending call fails with `reason`; later calls fail at once.
    package func close(reason: String) {
        let waiters = state.withLock { state -> [Completion] in
            state.closed = true
            for timer in state.timers.values { timer.cancel() }
            state.timers = [:]
            _ = state.queue.drain()
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter(.failure(CallFailure(.disconnected, reason))) }
    }

    /// Calls waiting or in flight.
    package var count: Int { state.withLock { $0.queue.count } }

    private func timedOut(id: String) {
        let (continuation, next) = state.withLock { state -> (Completion?, OutgoingCallQueue.Call?) in
            let (found, next) = state.queue.cancel(id: id)
            guard found else { return (nil, nil) }
            state.timers[id] = nil
            return (state.waiters.removeValue(forKey: id), next)
        }
        guard let continuation else { return }
        logger.warning("CALL timed out", metadata: ["ocpp.messageId": .string(id)])
        continuation(.failure(CallFailure(.timeout, "no answer in time")))
        if let next { send(next) }
    }

    private func send(_ call: OutgoingCallQueue.Call) {
        logger.debug("sending CALL", metadata: ["ocpp.action": .string(call.action), "ocpp.messageId": .string(call.id)])
        transmit(call.frame.text)
    }
}
