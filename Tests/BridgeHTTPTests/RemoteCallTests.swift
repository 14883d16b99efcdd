import Foundation
import OCPPRPC
import Testing

/// CSMS-initiated requests through the REST API and through command tags.
@Suite(.timeLimit(.minutes(2))) struct RemoteCallTests {
    /// Answers the next CALL the charge point receives with `reply(action, payload)`; returns what it saw.
    static func answerNext(_ cp: TestChargePoint, _ reply: (String, JSONValue) -> RPCMessage?) async throws -> (String, JSONValue) {
        let text = try #require(await cp.receive())
        guard case .call(let id, let action, let payload) = try RPCMessage(parsing: text) else { throw TestError("not a CALL: \(text)") }
        if let answer = reply(id, payload) { cp.send(answer.text) }
        return (action, payload)
    }

    @Test func restCallsReachTheChargePointAndReturnItsAnswer() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-CALL")
            _ = try await cp.call("Heartbeat", [:])
            async let reply = http.post("/api/chargepoints/CP-CALL/calls/Reset", ["type": "Soft"])
            let (action, payload) = try await Self.answerNext(cp) { id, _ in .callResult(id: id, payload: ["status": "Accepted"]) }
            #expect(action == "Reset")
            #expect(payload == ["type": "Soft"])
            let response = try await reply
            #expect(response.status == 200)
            #expect(response.body == ["result": ["status": "Accepted"]])

            async let failing = http.post("/api/chargepoints/CP-CALL/calls/UnlockConnector", ["connectorId": 1])
            _ = try await Self.answerNext(cp) { id, _ in
                .callError(id: id, code: .notSupported, description: "no lock", details: ["why": "none"])
            }
            let failed = try await failing
            #expect(failed.status == 502)
            #expect(failed.body["error"]?["code"] == "NotSupported")
            #expect(failed.body["error"]?["details"]?["why"] == "none")
            await cp.close()
        }
    }

    @Test func badRestCallsGetClearErrors() async throws {
        try await LiveBridge.run(configure: { $0.callTimeout = .milliseconds(300) }) { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-ERR")
            _ = try await cp.call("Heartbeat", [:])
            let invalid = try await http.post("/api/chargepoints/CP-ERR/calls/Reset", ["type": "Sideways"])
            #expect(invalid.status == 400)
            #expect(invalid.body["error"]?["code"] == "PropertyConstraintViolation")
            #expect(try await http.post("/api/chargepoints/CP-ERR/calls/Reset", [:]).status == 400)
            #expect(try await http.post("/api/chargepoints/CP-ERR/calls/Heartbeat", [:]).status == 400)
            #expect(try await http.post("/api/chargepoints/CP-ERR/calls/Bogus", [:]).status == 400)
            #expect(try await http.post("/api/chargepoints/NOBODY/calls/Reset", ["type": "Soft"]).status == 404)
            #expect(try await http.get("/api/chargepoints/NOBODY").status == 404)
            #expect(try await http.get("/api/tags/NOBODY.Online").status == 404)
            #expect(try await http.put("/api/tags/CP-ERR.Online", ["value": false]).status == 403)
            #expect(try await http.put("/api/tags/My.Setpoint", ["value": ["no": "objects"]]).status == 400)
            #expect(try await http.put("/api/tags/My.Setpoint", ["value": 16.5]).status == 200)
            #expect(try await http.tag("My.Setpoint") == 16.5)
            // Nothing invalid reached the charge point; a silent charge point times out.
            let timedOut = try await http.post("/api/chargepoints/CP-ERR/calls/ClearCache", [:])
            #expect(timedOut.status == 504)
            let seen = try #require(await cp.receive())
            guard case .call(_, let action, _) = try RPCMessage(parsing: seen) else { throw TestError(seen) }
            #expect(action == "ClearCache")
            await cp.close()
            #expect(try await http.post("/api/chargepoints/CP-ERR/calls/ClearCache", [:]).status == 404)
        }
    }

    @Test func commandTagsSendTriggerMessageAndAnyAction() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-CMD")
            _ = try await cp.call("Heartbeat", [:])
            #expect(try await http.waitForTag("CP-CMD.TriggerMessage.Request") { $0 != nil } == 0)
            #expect(try await http.put("/api/tags/CP-CMD.TriggerMessage.RequestedMessage", ["value": "StatusNotification"]).status == 200)
            #expect(try await http.put("/api/tags/CP-CMD.TriggerMessage.ConnectorId", ["value": 1]).status == 200)
            #expect(try await http.put("/api/tags/CP-CMD.TriggerMessage.Request", ["value": 1]).status == 200)
            let (action, payload) = try await Self.answerNext(cp) { id, _ in .callResult(id: id, payload: ["status": "Accepted"]) }
            #expect(action == "TriggerMessage")
            #expect(payload == ["requestedMessage": "StatusNotification", "connectorId": 1])
            #expect(try await http.waitForTag("CP-CMD.TriggerMessage.Response") { $0 == 1 } == 1)
            #expect(try await http.tag("CP-CMD.TriggerMessage.Status") == "Accepted")

            #expect(try await http.put("/api/tags/CP-CMD.Command.Action", ["value": "ChangeConfiguration"]).status == 200)
            #expect(try await http.put("/api/tags/CP-CMD.Command.Payload", ["value": #"{"key":"HeartbeatInterval","value":"60"}"#]).status == 200)
            #expect(try await http.put("/api/tags/CP-CMD.Command.Request", ["value": 1]).status == 200)
            let (action2, payload2) = try await Self.answerNext(cp) { id, _ in .callResult(id: id, payload: ["status": "RebootRequired"]) }
            #expect(action2 == "ChangeConfiguration")
            #expect(payload2 == ["key": "HeartbeatInterval", "value": "60"])
            #expect(try await http.waitForTag("CP-CMD.Command.Response") { $0 == 1 } == 1)
            #expect(try await http.tag("CP-CMD.Command.Result") == #"{"status":"RebootRequired"}"#)
            #expect(try await http.tag("CP-CMD.Command.Error") == "")

            // A bad payload is reported in the tags and nothing is sent.
            #expect(try await http.put("/api/tags/CP-CMD.Command.Payload", ["value": "{not json"]).status == 200)
            #expect(try await http.put("/api/tags/CP-CMD.Command.Request", ["value": 2]).status == 200)
            #expect(try await http.waitForTag("CP-CMD.Command.Response") { $0 == 2 } == 2)
            #expect(try await http.tag("CP-CMD.Command.Error")?.stringValue?.contains("not JSON") == true)
            await cp.close()
        }
    }
}
