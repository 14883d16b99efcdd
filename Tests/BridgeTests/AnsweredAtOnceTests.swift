import Foundation
import Logging
import OCPPRPC
import Synchronization
import Testing

@testable import Bridge
@testable import TagStore

/// A CALL the bridge answers alone (no decision, no store read, no upstream) is answered on the thread that
/// received it, with the same answer and the same tags as through the answering task, and never ahead of an
/// earlier CALL of the same charge point.
@Suite(.timeLimit(.minutes(1))) struct AnsweredAtOnceTests {
    /// The sent frames of one connection, in memory.
    final class MemoryConnection: ChargePointConnection {
        private let frames = Mutex<[String]>([])
        func send(_ text: String) { frames.withLock { $0.append(text) } }
        func close(_ reason: SessionCloseReason) {}
        var sent: [RPCMessage] { frames.withLock { $0 }.compactMap { try? RPCMessage(parsing: Array($0.utf8)) } }
    }

    static let logger = Logger(label: "test")

    func withBridge(
        store configuration: TagStoreConfiguration = .init(), _ body: (Bridge, TagStore) async throws -> Void
    ) async throws {
        let store = try TagStore.temporary(configuration: configuration, logger: Self.logger)
        let mapping = try TagMapping.load(directory: MappingTestSupport.mappingsDirectory)
        let bridge = Bridge(configuration: BridgeConfiguration(), store: store, mapping: mapping, logger: Self.logger)
        try await body(bridge, store)
        await store.close()
    }

    func frame(_ id: String, _ action: String, _ payload: JSONValue) -> [UInt8] {
        Array(RPCMessage.call(id: id, action: action, payload: payload).text.utf8)
    }

    /// CALLs each version answers alone or refuses; `atOnce` says whether without the task.
    static let calls: [(action: String, payload: JSONValue, version: OCPPVersion, atOnce: Bool)] = [
        ("BootNotification", ["chargePointVendor": "V", "chargePointModel": "M"], .v16, true),
        ("Heartbeat", [:], .v16, true),
        ("StatusNotification", ["connectorId": 1, "errorCode": "NoError", "status": "Charging"], .v16, true),
        ("MeterValues", [
            "connectorId": 1, "transactionId": 7,
            "meterValue": [["timestamp": "2026-11-27T10:00:00Z", "sampledValue": [["value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"]]]],
        ], .v16, true),
        ("DiagnosticsStatusNotification", ["status": "Uploaded"], .v16, true),
        ("StatusNotification", ["connectorId": 1, "errorCode": "NoError"], .v16, true),  // no status: an OccurrenceConstraintViolation
        ("Reset", ["type": "Hard"], .v16, false),  // sent by the Central System only: NotSupported
        ("Heartbeat", [:], .v201, true),
        ("StatusNotification", ["timestamp": "2026-11-27T10:00:00Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1], .v201, true),
        ("NoSuchAction", [:], .v201, true),  // NotImplemented
    ]

    /// A CALLRESULT's payload without `currentTime`, or the CALLERROR's code.
    func comparable(_ message: RPCMessage?) -> String {
        switch message {
        case .callResult(_, var payload)?:
            if case .object(var members) = payload {
                members["currentTime"] = nil
                payload = .object(members)
            }
            return payload.jsonText
        case .callError(_, let code, _, _)?:
            return "error \(code)"
        default:
            return "nothing"
        }
    }

    /// The charge point's tags, without the values that are times.
    func tagsOf(_ store: TagStore, _ cp: String) -> [String] {
        store.tags(prefix: cp + ".").map { tag in
            let value = tag.value.textValue.flatMap(OCPPDateTime.parse) == nil ? tag.value.textValue ?? "\(tag.value)" : "(a time)"
            return "\(tag.name.dropFirst(cp.count))=\(value)"
        }.sorted()
    }

    @Test func answersAtOnceWhatTheTaskWouldAnswerWithTheSameTags() async throws {
        try await withBridge { bridge, store in
            for (index, call) in Self.calls.enumerated() {
                let handler: any IncomingCallHandler = call.version == .v201 ? bridge.centralSystem201 : bridge.centralSystem16
                // The same CALL from two charge points: one answered at once through a session, one by `handle`.
                let atOnce = MemoryConnection()
                let session = await bridge.connect(chargePointId: "NOW\(index)", version: call.version, connection: atOnce)
                session.receive(frame("1", call.action, call.payload))
                if call.atOnce {
                    // Answered before `receive` returned: no task ran in between.
                    #expect(atOnce.sent.count == 1, "\(call.action) was not answered at once")
                } else {
                    #expect(handler.answerAtOnce(action: call.action, payload: call.payload, session: session) == nil)
                }
                for _ in 0..<3000 where atOnce.sent.isEmpty { try await Task.sleep(for: .milliseconds(10)) }

                let later = await bridge.connect(chargePointId: "TASK\(index)", version: call.version, connection: MemoryConnection())
                let result = await handler.handle(action: call.action, payload: call.payload, session: later)
                let viaTask: RPCMessage =
                    switch result {
                    case .success(let payload): .callResult(id: "1", payload: payload)
                    case .failure(let error): .callError(id: "1", error: error, version: call.version)
                    }
                #expect(comparable(atOnce.sent.first) == comparable(viaTask), "\(call.action)")
                #expect(tagsOf(store, "NOW\(index)") == tagsOf(store, "TASK\(index)"), "\(call.action)")
            }
        }
    }

    @Test func decisionsAndStoredTransactionsAreLeftToTheTask() async throws {
        try await withBridge { bridge, _ in
            let session = await bridge.connect(chargePointId: "CP1", version: .v16, connection: MemoryConnection())
            let cs = bridge.centralSystem16
            #expect(cs.answerAtOnce(action: "Authorize", payload: ["idTag": "T1"], session: session) == nil)
            #expect(cs.answerAtOnce(action: "DataTransfer", payload: ["vendorId": "V"], session: session) == nil)
            #expect(
                cs.answerAtOnce(
                    action: "StartTransaction",
                    payload: ["connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": "2026-11-27T10:00:00Z"],
                    session: session) == nil)
            let station = await bridge.connect(chargePointId: "CS1", version: .v201, connection: MemoryConnection())
            #expect(bridge.centralSystem201.answerAtOnce(action: "TransactionEvent", payload: [:], session: station) == nil)
            #expect(bridge.centralSystem201.answerAtOnce(action: "NotifyEVChargingNeeds", payload: [:], session: station) == nil)
        }
    }

    @Test func aFullWriteQueueLeavesTheCallToTheTask() async throws {
        // One queued write fills the queue, until the next commit (at most 2 s later).
        try await withBridge(store: TagStoreConfiguration(flushInterval: .seconds(2), maxBacklog: 1)) { bridge, store in
            let session = await bridge.connect(chargePointId: "CP1", version: .v16, connection: MemoryConnection())
            var checked = false
            for round in 0..<10 where !checked {
                bridge.tags.write([TagWrite(name: "Filler", value: .int(Int64(round)))])
                // Full before and after the call means full during it: only a commit empties the queue.
                guard !store.hasRoom else { continue }
                let answer = bridge.centralSystem16.answerAtOnce(action: "Heartbeat", payload: [:], session: session)
                guard !store.hasRoom else { continue }
                #expect(answer == nil)
                checked = true
            }
            #expect(checked)
        }
    }

    @Test func aCallAnswerableAtOnceWaitsForAnEarlierOneBeingDecided() async throws {
        try await withBridge { bridge, _ in
            let connection = MemoryConnection()
            let session = await bridge.connect(chargePointId: "CP1", version: .v16, connection: connection)
            session.receive(frame("a", "Authorize", ["idTag": "T1"]))
            session.receive(frame("h", "Heartbeat", [:]))
            // The Heartbeat is not answered ahead of the Authorize, which waits for a decider.
            #expect(connection.sent.isEmpty)
            var request: TagValue?
            for _ in 0..<3000 where request == nil {
                request = bridge.tags.value("CP1.Authorize.Request")
                if request == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let number = try #require(request)
            #expect(connection.sent.isEmpty)
            bridge.tags.write([
                TagWrite(name: "CP1.Authorize.Status", value: .string("Accepted")), TagWrite(name: "CP1.Authorize.Response", value: number),
            ])
            for _ in 0..<3000 where connection.sent.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
            let ids = connection.sent.compactMap { message -> String? in
                if case .callResult(let id, _) = message { id } else { nil }
            }
            #expect(ids == ["a", "h"])
            guard case .callResult(_, let answer)? = connection.sent.first else { return }
            #expect(answer["idTagInfo"]?["status"] == "Accepted")
        }
    }
}
