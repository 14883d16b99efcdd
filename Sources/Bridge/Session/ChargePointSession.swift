import Foundation
import Logging
import OCPPRPC

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
    nonisolated let ids: MessageIDGenerator

    private var queue = OutgoingCallQueue()
    private var waiters: [String: CheckedContinuation<Result<JSONValue, CallFailure>, Never>] = [:]
    private var timers: [String: Task<Void, Never>] = [:]
    private var isClosed = false
    private let incoming: AsyncStream<(id: String, action: String, payload: JSONValue)>.Continuation
    private let incomingCalls: AsyncStream<(id: String, action: String, payload: JSONValue)>
    private var incomingTask: Task<Void, Never>?

    public init(
        chargePointId: String, version: OCPPVersion, connectionNumber: UInt64,
        connection: any ChargePointConnection, handler: any IncomingCallHandler, logger: Logger
    ) {
        self.chargePointId = chargePointId
        self.version = version
        self.connectionNumber = connectionNumber
        self.connectedSince = Date()
        self.connection = connection
        self.handler = handler
        var logger = logger
        logger[metadataKey: "ocpp.chargePointId"] = .string(chargePointId)
        self.logger = logger
        self.ids = MessageIDGenerator()
        (incomingCalls, incoming) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Starts answering the charge point's CALLs, one at a time in arrival order.
    public func start() {
        guard incomingTask == nil else { return }
        let calls = incomingCalls
        incomingTask = Task { [handler, connection, logger, version] in
            for await call in calls {
                let result = await handler.handle(action: call.action, payload: call.payload, session: self)
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
            }
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
        switch message {
        case .call(let id, let action, let payload):
            incoming.yield((id, action, payload))
        case .callResult(let id, let payload):
            finish(id: id, with: .success(payload))
        case .callError(let id, let code, let description, let details):
            finish(id: id, with: .failure(CallFailure(.callError, code: code, description, details: details)))
        }
    }

    /// Sends a CALL to the charge point and waits for its answer, at most `timeout` from now (queueing included).
    public func call(action: String, payload: JSONValue, timeout: Duration) async -> Result<JSONValue, CallFailure> {
        guard !isClosed else { return .failure(CallFailure(.disconnected, "the charge point disconnected")) }
        let call = OutgoingCallQueue.Call(id: ids.next(), action: action, payload: payload)
        return await withCheckedContinuation { continuation in
            waiters[call.id] = continuation
            timers[call.id] = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                await self?.timedOut(id: call.id)
            }
            if let now = queue.enqueue(call) { send(now) }
        }
    }

    /// How many of the bridge's CALLs are waiting or in flight.
    public var pendingCalls: Int { queue.count }

    /// The connection ended: fails every pending CALL and stops answering.
    public func closed() {
        guard !isClosed else { return }
        isClosed = true
        incoming.finish()
        for call in queue.drain() {
            resolve(id: call.id, .failure(CallFailure(.disconnected, "the charge point disconnected")))
        }
    }

    /// Closes the WebSocket (the bridge's decision), then behaves as `closed()`.
    public func close(_ reason: SessionCloseReason) {
        connection.close(reason)
        closed()
    }

    private func send(_ call: OutgoingCallQueue.Call) {
        logger.debug("sending CALL", metadata: ["ocpp.action": .string(call.action), "ocpp.messageId": .string(call.id)])
        connection.send(call.frame.text)
    }

    private func finish(id: String, with result: Result<JSONValue, CallFailure>) {
        let (completed, next) = queue.complete(id: id)
        guard completed != nil else {
            logger.warning("dropped an answer with an unknown message id", metadata: ["ocpp.messageId": .string(id)])
            return
        }
        resolve(id: id, result)
        if let next { send(next) }
    }

    private func timedOut(id: String) {
        let (found, next) = queue.cancel(id: id)
        guard found else { return }
        logger.warning("CALL timed out", metadata: ["ocpp.messageId": .string(id)])
        resolve(id: id, .failure(CallFailure(.timeout, "the charge point did not answer in time")))
        if let next { send(next) }
    }

    private func resolve(id: String, _ result: Result<JSONValue, CallFailure>) {
        timers.removeValue(forKey: id)?.cancel()
        waiters.removeValue(forKey: id)?.resume(returning: result)
    }
}
