import Foundation
import Logging
import OCPPRPC
import Synchronization
import TagStore
import Testing

@testable import Bridge

/// An upstream CSMS in memory: answers the bridge's CALLs with `answer`, and can be switched off.
final class MemoryUpstream: UpstreamConnector, Sendable {
    private struct State {
        var reachable = false
        var received: [(action: String, payload: JSONValue)] = []
        var continuation: AsyncStream<String>.Continuation?
    }

    private let state = Mutex(State())
    let answer: @Sendable (String, JSONValue) -> JSONValue

    init(answer: @escaping @Sendable (String, JSONValue) -> JSONValue) { self.answer = answer }

    var reachable: Bool {
        get { state.withLock { $0.reachable } }
        set { state.withLock { $0.reachable = newValue } }
    }

    var received: [(action: String, payload: JSONValue)] { state.withLock { $0.received } }

    func connect(to upstream: UpstreamConfiguration, chargePointId: String, version: OCPPVersion) async throws -> any UpstreamTransport {
        guard reachable else { throw TestFailure("unreachable") }
        let (stream, continuation) = AsyncStream<String>.makeStream()
        state.withLock { $0.continuation = continuation }
        return Transport(upstream: self, messages: stream)
    }

    /// A frame from the bridge: record it and answer CALLs.
    func receive(_ text: String) {
        guard case .call(let id, let action, let payload)? = try? RPCMessage(parsing: text) else { return }
        let continuation = state.withLock { state in
            state.received.append((action, payload))
            return state.continuation
        }
        continuation?.yield(RPCMessage.callResult(id: id, payload: answer(action, payload)).text)
    }

    struct Transport: UpstreamTransport {
        let upstream: MemoryUpstream
        let messages: AsyncStream<String>
        func send(_ text: String) { upstream.receive(text) }
        func close() async {}
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite(.timeLimit(.minutes(1))) struct UpstreamLinkTests {
    /// Polls `condition` until it holds or 30 s pass (see `eventually` in the scripting tests for why so long).
    static func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    @Test func queuesWhileUnreachableThenReplaysInOrderWithTheUpstreamsIds() async throws {
        let logger = Logger(label: "test")
        let store = try TagStore.temporary(logger: logger)
        let tags = TagService(store: store, logger: logger)
        let csms = MemoryUpstream { action, _ in
            action == "StartTransaction" ? ["transactionId": 9001, "idTagInfo": ["status": "Accepted"]] : [:]
        }
        let link = UpstreamLink(
            upstream: UpstreamConfiguration(name: "primary", url: "ws://memory"), isPrimary: true, chargePointId: "CP1",
            version: .v16, connector: csms, tags: tags, callTimeout: .seconds(5), replayInterval: .milliseconds(1),
            logger: logger
        ) { _, _ in .failure(CallFailure(.offline, "no charge point here")) }
        await link.start()

        // Unreachable: the first attempt fails, then everything is queued.
        let start: JSONValue = ["connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"]
        #expect(await link.deliver(action: "StartTransaction", payload: start, localTransactionId: 12) == nil)
        link.deliverLater(action: "MeterValues", payload: ["connectorId": 1, "transactionId": 12, "meterValue": []], localTransactionId: 12)
        #expect(await link.deliver(action: "StopTransaction", payload: ["transactionId": 12, "meterStop": 5, "timestamp": "2026-01-01T01:00:00Z"], localTransactionId: 12) == nil)
        #expect(try await store.upstreamQueueDepth(upstream: "primary", chargePoint: "CP1") == 3)
        #expect(tags.value("CP1.Upstream.primary.QueueDepth") == .int(3))

        // Back: replayed in order, later messages carry the upstream's own id.
        csms.reachable = true
        #expect(await Self.eventually { csms.received.count == 3 })
        #expect(csms.received.map(\.action) == ["StartTransaction", "MeterValues", "StopTransaction"])
        #expect(csms.received[1].payload["transactionId"] == 9001)
        #expect(csms.received[2].payload["transactionId"] == 9001)
        #expect(try await Self.eventually { try await store.upstreamQueueDepth(upstream: "primary", chargePoint: "CP1") == 0 })
        #expect(try await store.remoteTransactionId(upstream: "primary", localId: 12) == 9001)
        #expect(tags.value("CP1.Upstream.primary.Online") == .bool(true))

        // Connected and nothing queued: delivered at once, and the answer comes back.
        let answer = await link.deliver(action: "StartTransaction", payload: start, localTransactionId: 13)
        #expect(answer?["transactionId"] == 9001)
        await link.stop()
        await store.close()
    }
}
