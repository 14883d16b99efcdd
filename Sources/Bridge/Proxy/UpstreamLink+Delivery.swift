import Foundation
import OCPPRPC
import TagStore

/// Store-and-forward: transaction messages (StartTransaction, StopTransaction, transaction MeterValues) go
/// to the upstream in arrival order; while it is unreachable they wait in a durable queue, replayed in order
/// and throttled once it is back. The charge point always sees the bridge's transaction ids; each upstream's
/// own ids are recorded as it answers StartTransaction and rewritten into later messages.
extension UpstreamLink {
    /// The actions queued while the upstream is unreachable (StatusNotification is not: its current state
    /// is sent on reconnect instead).
    static let queuedActions: Set<String> = ["StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"]

    /// Delivers a transaction message and returns the upstream's answer, or nil when the message was
    /// queued (the upstream is unreachable) or refused; the caller then decides locally.
    public nonisolated func deliver(action: String, payload: JSONValue, localTransactionId: Int64?) async -> JSONValue? {
        await withCheckedContinuation { continuation in
            mailbox.yield(.message(action: action, payload: payload, localTransactionId: localTransactionId) { continuation.resume(returning: $0) })
        }
    }

    /// Delivers a transaction message without waiting for the answer (transaction MeterValues; copies to
    /// secondaries).
    public nonisolated func deliverLater(action: String, payload: JSONValue, localTransactionId: Int64?) {
        mailbox.yield(.message(action: action, payload: payload, localTransactionId: localTransactionId, completion: nil))
    }

    func loadQueueDepth() async {
        queued = (try? await store.upstreamQueueDepth(upstream: upstream.name, chargePoint: chargePointId)) ?? 0
        publishQueueDepth()
    }

    func work(_ delivery: Delivery) async {
        switch delivery {
        case .replay:
            await replayQueue()
        case .message(let action, let payload, let localTransactionId, let completion):
            // Older queued messages go first, so the upstream sees everything in order.
            await replayQueue()
            let answer = await process(action: action, payload: payload, localTransactionId: localTransactionId)
            completion?(answer)
        }
    }

    private enum Outcome {
        case answered(JSONValue)
        /// The upstream answered a CALLERROR: sending it again would not help.
        case refused(CallFailure)
        /// Not connected, timed out or disconnected: keep it for later.
        case unreachable(CallFailure)
        /// It names a transaction this upstream never gave an id for (its StartTransaction was refused).
        case unmapped
    }

    private func process(action: String, payload: JSONValue, localTransactionId: Int64?) async -> JSONValue? {
        await settleFirstAttempt()
        if isConnected, queued == 0 {
            switch await send(action: action, payload: payload, localTransactionId: localTransactionId, recordImmediately: true) {
            case .answered(let answer): return answer
            case .refused(let failure):
                logger.warning("upstream refused a transaction message", metadata: ["ocpp.action": .string(action), "error": .string(failure.description)])
                return nil
            case .unmapped:
                logger.warning("no upstream transaction id for this transaction; not sent", metadata: ["ocpp.action": .string(action)])
                return nil
            case .unreachable:
                break
            }
        }
        do {
            _ = try await store.enqueueUpstream(NewUpstreamMessage(
                upstream: upstream.name, chargePoint: chargePointId, action: action, payload: payload.jsonText,
                localTransactionId: localTransactionId))
            queued += 1
            publishQueueDepth()
        } catch {
            logger.error("could not queue a message for the upstream", metadata: ["ocpp.action": .string(action), "error": .string("\(error)")])
        }
        return nil
    }

    /// Sends the durable queue in order while connected, one message per `replayInterval`.
    private func replayQueue() async {
        while isConnected, queued > 0 {
            let batch: [UpstreamQueueEntry]
            do {
                batch = try await store.pendingUpstream(upstream: upstream.name, chargePoint: chargePointId, limit: 50)
            } catch {
                logger.error("could not read the upstream queue", metadata: ["error": .string("\(error)")])
                return
            }
            guard !batch.isEmpty else {
                queued = 0
                publishQueueDepth()
                return
            }
            for entry in batch {
                guard isConnected else { return }
                let payload = (try? JSONValue(parsing: entry.payload)) ?? .object([:])
                let outcome = await send(
                    action: entry.action, payload: payload, localTransactionId: entry.localTransactionId, recordImmediately: false)
                var remote: TagStore.RemoteTransaction?
                switch outcome {
                case .unreachable(let failure):
                    try? await store.recordUpstreamAttempt(seq: entry.seq, error: failure.description)
                    return
                case .answered(let answer):
                    if entry.action == "StartTransaction", let local = entry.localTransactionId, let id = answer["transactionId"]?.intValue {
                        remote = (upstream: upstream.name, chargePoint: chargePointId, localId: local, remoteId: id)
                    }
                case .refused(let failure):
                    logger.warning("upstream refused a replayed message; dropped", metadata: ["ocpp.action": .string(entry.action), "error": .string(failure.description)])
                case .unmapped:
                    logger.warning("replayed message names a transaction the upstream has no id for; dropped", metadata: ["ocpp.action": .string(entry.action)])
                }
                do {
                    try await store.acknowledgeUpstream(seq: entry.seq, recordingRemote: remote)
                } catch {
                    logger.error("could not remove a replayed message from the queue", metadata: ["error": .string("\(error)")])
                    return
                }
                queued = max(queued - 1, 0)
                publishQueueDepth()
                try? await Task.sleep(for: replayInterval)
            }
        }
    }

    private func send(action: String, payload: JSONValue, localTransactionId: Int64?, recordImmediately: Bool) async -> Outcome {
        var payload = payload
        if action != "StartTransaction", let local = localTransactionId {
            guard let remote = try? await store.remoteTransactionId(upstream: upstream.name, localId: local) else { return .unmapped }
            payload = payload.replacingTransactionId(with: remote)
        }
        switch await call(action: action, payload: payload) {
        case .success(let answer):
            if recordImmediately, action == "StartTransaction", let local = localTransactionId, let remote = answer["transactionId"]?.intValue {
                do {
                    try await store.recordRemoteTransaction(upstream: upstream.name, chargePoint: chargePointId, localId: local, remoteId: remote)
                } catch {
                    logger.error("could not record the upstream's transaction id", metadata: ["error": .string("\(error)")])
                }
            }
            return .answered(answer)
        case .failure(let failure) where failure.kind == .callError:
            return .refused(failure)
        case .failure(let failure):
            return .unreachable(failure)
        }
    }

    /// Rewrites the transaction id of a CSMS-initiated request from this upstream's id to the bridge's.
    func translateDown(action: String, payload: JSONValue) async -> JSONValue {
        switch action {
        case "RemoteStopTransaction":
            guard let remote = payload["transactionId"]?.intValue,
                let local = try? await store.localTransactionId(upstream: upstream.name, chargePoint: chargePointId, remoteId: remote)
            else { return payload }
            return payload.replacingTransactionId(with: local)
        case "SetChargingProfile":
            guard case .object(var members) = payload, case .object(var profile)? = members["csChargingProfiles"],
                let remote = profile["transactionId"]?.intValue,
                let local = try? await store.localTransactionId(upstream: upstream.name, chargePoint: chargePointId, remoteId: remote)
            else { return payload }
            profile["transactionId"] = .int(local)
            members["csChargingProfiles"] = .object(profile)
            return .object(members)
        default:
            return payload
        }
    }

    func publishQueueDepth() {
        tags.write([TagWrite(name: "\(tagPrefix).QueueDepth", value: .int(Int64(queued)))])
    }
}

extension JSONValue {
    /// The same object with its `transactionId` member set to `id`.
    func replacingTransactionId(with id: Int64) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members["transactionId"] = .int(id)
        return .object(members)
    }
}
