import Foundation
import Logging
import OCPPRPC
import Synchronization
import Testing

@testable import Bridge
@testable import TagStore

/// A CALL the bridge answers alone (no decision, no store read, no upstream) is answered on the thread that
/// received it, and one it decides through the tag handshake alone on the decider's thread, with the same answer
/// and the same tags as through the answering task, and never ahead of an earlier CALL of the same charge point.
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

    /// `answerWithoutTask`'s answer if given at once; nil if left to the task; fails the test if left for later.
    func atOnce(
        _ handler: any IncomingCallHandler, _ action: String, _ payload: JSONValue, _ session: ChargePointSession
    ) -> Result<JSONValue, RPCError>? {
        switch handler.answerWithoutTask(action: action, payload: payload, session: session, later: { _ in }) {
        case .now(let result)?: return result
        case .later?:
            Issue.record("\(action) was left for later")
            return nil
        case nil: return nil
        }
    }

    /// Whether `answerWithoutTask` leaves the CALL for later (a decision), having started it.
    func leftForLater(_ handler: any IncomingCallHandler, _ action: String, _ payload: JSONValue, _ session: ChargePointSession) -> Bool {
        if case .later? = handler.answerWithoutTask(action: action, payload: payload, session: session, later: { _ in }) { true } else { false }
    }

    /// Answers every decision request at once, on the requesting thread, as a script would: writes `status` and
    /// then the request number into `.Response` (and `data` into `.ResponseData`).
    struct InstantDecider: DecisionListener {
        let tags: TagService
        let status: String
        var data: String? = nil

        func decisionRequested(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
            let prefix = "\(chargePoint).\(action)"
            var writes = [TagWrite(name: "\(prefix).Status", value: .string(status))]
            if let data { writes.append(TagWrite(name: "\(prefix).ResponseData", value: .string(data))) }
            writes.append(TagWrite(name: "\(prefix).Response", value: .int(number)))
            tags.write(writes)
        }
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

    /// Has `handle` answer the same CALL for a new charge point `taskId`; expects the answer `sent` and the tags
    /// that the charge point `id` got.
    func expectSameAsTheTask(
        _ bridge: Bridge, _ store: TagStore, _ action: String, _ payload: JSONValue, _ version: OCPPVersion, sent: RPCMessage?,
        as id: String, taskId: String
    ) async {
        let handler: any IncomingCallHandler = version == .v201 ? bridge.centralSystem201 : bridge.centralSystem16
        let session = await bridge.connect(chargePointId: taskId, version: version, connection: MemoryConnection())
        let viaTask: RPCMessage =
            switch await handler.handle(action: action, payload: payload, session: session) {
            case .success(let payload): .callResult(id: "1", payload: payload)
            case .failure(let error): .callError(id: "1", error: error, version: version)
            }
        #expect(comparable(sent) == comparable(viaTask), "\(action)")
        #expect(tagsOf(store, id) == tagsOf(store, taskId), "\(action)")
    }

    @Test func answersAtOnceWhatTheTaskWouldAnswerWithTheSameTags() async throws {
        try await withBridge { bridge, store in
            for (index, call) in Self.calls.enumerated() {
                let handler: any IncomingCallHandler = call.version == .v201 ? bridge.centralSystem201 : bridge.centralSystem16
                // The same CALL from two charge points: one answered at once through a session, one by `handle`.
                let connection = MemoryConnection()
                let session = await bridge.connect(chargePointId: "NOW\(index)", version: call.version, connection: connection)
                session.receive(frame("1", call.action, call.payload))
                if call.atOnce {
                    // Answered before `receive` returned: no task ran in between.
                    #expect(connection.sent.count == 1, "\(call.action) was not answered at once")
                } else {
                    #expect(atOnce(handler, call.action, call.payload, session) == nil)
                }
                for _ in 0..<3000 where connection.sent.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                await expectSameAsTheTask(
                    bridge, store, call.action, call.payload, call.version, sent: connection.sent.first, as: "NOW\(index)",
                    taskId: "TASK\(index)")
            }
        }
    }

    @Test func storedTransactionsAreLeftToTheTaskAndDecisionsForLater() async throws {
        try await withBridge { bridge, _ in
            let session = await bridge.connect(chargePointId: "CP1", version: .v16, connection: MemoryConnection())
            let cs = bridge.centralSystem16
            #expect(leftForLater(cs, "Authorize", ["idTag": "T1"], session))
            #expect(leftForLater(cs, "DataTransfer", ["vendorId": "V"], session))
            #expect(
                atOnce(cs, "StartTransaction", ["connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": "2026-11-27T10:00:00Z"], session)
                    == nil)
            #expect(atOnce(cs, "StopTransaction", ["transactionId": 1, "meterStop": 0, "timestamp": "2026-11-27T10:00:00Z"], session) == nil)
            let station = await bridge.connect(chargePointId: "CS1", version: .v201, connection: MemoryConnection())
            #expect(leftForLater(bridge.centralSystem201, "Authorize", ["idToken": ["idToken": "T1", "type": "ISO14443"]], station))
            #expect(atOnce(bridge.centralSystem201, "TransactionEvent", [:], station) == nil)
            #expect(atOnce(bridge.centralSystem201, "NotifyEVChargingNeeds", [:], station) == nil)
        }
    }

    /// Decisions of each version, with the decider's status and data.
    static let decisions: [(action: String, payload: JSONValue, version: OCPPVersion, status: String, data: String?)] = [
        ("Authorize", ["idTag": "T1"], .v16, "Blocked", nil),
        ("DataTransfer", ["vendorId": "V", "messageId": "M", "data": "question"], .v16, "Accepted", "answer"),
        ("Authorize", ["idToken": ["idToken": "T2", "type": "ISO14443"]], .v201, "Accepted", nil),
        ("DataTransfer", ["vendorId": "V", "data": ["any": "json"]], .v201, "Rejected", nil),
        ("Authorize", ["idToken": ["type": "ISO14443"]], .v201, "Accepted", nil),  // no idToken.idToken: a CALLERROR
    ]

    @Test(arguments: decisions.indices)
    func decidesWithoutTheTaskWhatTheTaskWouldAnswerWithTheSameTags(_ index: Int) async throws {
        let call = Self.decisions[index]
        try await withBridge { bridge, store in
            bridge.decisionListeners.add(InstantDecider(tags: bridge.tags, status: call.status, data: call.data))
            // The decider answers inside its notification, so without a task the answer is sent before `receive`
            // returns: the decision's callback ran on the receiving thread, nested in `answerWithoutTask`.
            let connection = MemoryConnection()
            let session = await bridge.connect(chargePointId: "NOW", version: call.version, connection: connection)
            session.receive(frame("1", call.action, call.payload))
            #expect(connection.sent.count == 1, "\(call.action) was not answered without a task")
            await expectSameAsTheTask(
                bridge, store, call.action, call.payload, call.version, sent: connection.sent.first, as: "NOW", taskId: "TASK")
        }
    }

    @Test func anUnansweredDecisionGetsTheDefaultWithoutTheTask() async throws {
        var configuration = BridgeConfiguration()
        configuration.decisionTimeout = .milliseconds(200)
        let store = try TagStore.temporary(logger: Self.logger)
        let mapping = try TagMapping.load(directory: MappingTestSupport.mappingsDirectory)
        let bridge = Bridge(configuration: configuration, store: store, mapping: mapping, logger: Self.logger)
        let connection = MemoryConnection()
        let session = await bridge.connect(chargePointId: "CP1", version: .v16, connection: connection)
        session.receive(frame("a", "Authorize", ["idTag": "T1"]))
        session.receive(frame("h", "Heartbeat", [:]))
        #expect(connection.sent.isEmpty)
        for _ in 0..<3000 where connection.sent.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        let answers = connection.sent.compactMap { message -> (String, JSONValue)? in
            if case .callResult(let id, let payload) = message { (id, payload) } else { nil }
        }
        #expect(answers.map(\.0) == ["a", "h"])
        #expect(answers.first?.1["idTagInfo"]?["status"] == .string(configuration.decisionDefaults.authorize))
        await store.close()
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
                let answer = atOnce(bridge.centralSystem16, "Heartbeat", [:], session)
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
            // Both answered on this thread, inside the decider's write: no task took over.
            #expect(connection.sent.count == 2)
            let ids = connection.sent.compactMap { message -> String? in
                if case .callResult(let id, _) = message { id } else { nil }
            }
            #expect(ids == ["a", "h"])
            guard case .callResult(_, let answer)? = connection.sent.first else { return }
            #expect(answer["idTagInfo"]?["status"] == "Accepted")
        }
    }
}
