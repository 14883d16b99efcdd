import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import OCPPRPC
import Synchronization

/// A charge point simulator over a real WebSocket: send frames, await frames, answer the bridge's CALLs.
final class TestChargePoint: Sendable {
    let id: String
    private let outbound: AsyncStream<String>.Continuation
    private let inbox = Inbox()
    private let task: Task<WebSocketCloseFrame?, any Error>
    private let ids = MessageIDGenerator(prefix: "cp")

    /// Connects to `url/{pathId}` offering `subprotocols`.
    init(url: String, id: String, pathId: String? = nil, subprotocols: [String] = ["ocpp1.6"]) async throws {
        self.id = id
        let (outStream, outContinuation) = AsyncStream<String>.makeStream()
        self.outbound = outContinuation
        let inbox = self.inbox
        var headers = HTTPFields()
        if !subprotocols.isEmpty { headers[.secWebSocketProtocol] = subprotocols.joined(separator: ", ") }
        let logger = Logger(label: "test-cp")
        let connected = AsyncStream<Void>.makeStream()
        task = Task {
            try await WebSocketClient.connect(
                url: "\(url)/\(pathId ?? id)", configuration: .init(additionalHeaders: headers), logger: logger
            ) { wsInbound, wsOutbound, _ in
                connected.continuation.yield()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in outStream { try await wsOutbound.write(.text(text)) }
                        try await wsOutbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in wsInbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { await inbox.put(text) }
                    }
                    await inbox.finish()
                    group.cancelAll()
                }
            }
        }
        var iterator = connected.stream.makeAsyncIterator()
        _ = await iterator.next()
    }

    /// Sends raw text.
    func send(_ text: String) { outbound.yield(text) }

    /// The next frame from the bridge, or nil when the connection closed or `timeout` passed.
    func receive(timeout: Duration = .seconds(10)) async -> String? {
        await inbox.take(timeout: timeout)
    }

    /// Sends a CALL and returns the bridge's answer frame.
    func call(_ action: String, _ payload: JSONValue, timeout: Duration = .seconds(10)) async throws -> RPCMessage {
        let id = ids.next()
        send(RPCMessage.call(id: id, action: action, payload: payload).text)
        guard let text = await receive(timeout: timeout) else { throw TestError("no answer to \(action)") }
        let message = try RPCMessage(parsing: text)
        guard message.id == id else { throw TestError("answer with id \(message.id), expected \(id): \(text)") }
        return message
    }

    /// Closes the connection and waits for it to end.
    func close() async {
        outbound.finish()
        _ = try? await task.value
    }

    /// Whether the connection has ended (the bridge closed it).
    func waitUntilClosed(timeout: Duration = .seconds(30)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { [task] in
                _ = try? await task.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Frames received and not yet taken, and at most one reader waiting for the next.
actor Inbox {
    private var frames: [String] = []
    private var finished = false
    private var waiter: (id: Int, continuation: CheckedContinuation<String?, Never>)?
    private var nextWaiter = 0

    func put(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: text)
        } else {
            frames.append(text)
        }
    }

    func finish() {
        finished = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: nil)
        }
    }

    func take(timeout: Duration) async -> String? {
        if !frames.isEmpty { return frames.removeFirst() }
        if finished { return nil }
        nextWaiter += 1
        let id = nextWaiter
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        if let waiter, waiter.id == id {
            self.waiter = nil
            waiter.continuation.resume(returning: nil)
        }
    }
}
