import Foundation
import OCPPRPC
import Testing

/// The bridge as a Central System, driven through a real WebSocket and the real REST API.
@Suite(.timeLimit(.minutes(2))) struct CentralSystemTests {
    static let boot: JSONValue = ["chargePointVendor": "Acme", "chargePointModel": "Fast-22", "chargePointSerialNumber": "SN-1"]

    @Test func bootAndHeartbeatAreAnsweredAndMappedToTags() async throws {
        try await LiveBridge.run(configure: { $0.heartbeatInterval = 42 }) { live in
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-BOOT")
            let boot = try await cp.call("BootNotification", Self.boot)
            guard case .callResult(_, let answer) = boot else { throw TestError("\(boot)") }
            #expect(answer["status"] == "Accepted")
            #expect(answer["interval"] == 42)
            #expect(OCPPDateTime.parse(answer["currentTime"]?.stringValue ?? "") != nil)
            let heartbeat = try await cp.call("Heartbeat", [:])
            guard case .callResult(_, let beat) = heartbeat else { throw TestError("\(heartbeat)") }
            #expect(beat["currentTime"]?.stringValue?.hasSuffix("Z") == true)

            let http = HTTP(port: live.apiPort)
            #expect(try await http.waitForTag("CP-BOOT.Boot.Vendor") { $0 != nil } == "Acme")
            #expect(try await http.tag("CP-BOOT.Online") == true)
            #expect(try await http.tag("CP-BOOT.Protocol") == "ocpp1.6")
            #expect(try await http.waitForTag("CP-BOOT.Heartbeat.Last") { $0 != nil } != nil)
            let info = try await http.get("/api/chargepoints/CP-BOOT")
            #expect(info.status == 200)
            #expect(info.body["online"] == true)
            #expect(info.body["protocol"] == "ocpp1.6")
            await cp.close()
            #expect(try await http.waitForTag("CP-BOOT.Online") { $0 == false } == false)
        }
    }

    @Test func badFramesGetTheRightCallErrorAndTheConnectionStaysUsable() async throws {
        try await LiveBridge.run { live in
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-BAD")
            let cases: [(String, String, String)] = [
                ("this is not json", "-1", "FormationViolation"),
                (#"{"not":"an array"}"#, "-1", "FormationViolation"),
                (#"[2,"a1","NoSuchAction",{}]"#, "a1", "NotImplemented"),
                (#"[2,"a2","Authorize",{}]"#, "a2", "OccurenceConstraintViolation"),
                (#"[2,"a3","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]"#, "a3", "TypeConstraintViolation"),
                (#"[2,"a4","Authorize",{"idTag":"123456789012345678901"}]"#, "a4", "PropertyConstraintViolation"),
                (#"[2,"a5","Heartbeat",[]]"#, "a5", "FormationViolation"),
                (#"[2,"a6","Reset",{"type":"Hard"}]"#, "a6", "NotSupported"),
            ]
            for (frame, id, code) in cases {
                cp.send(frame)
                let reply = try RPCMessage(parsing: try #require(await cp.receive()))
                guard case .callError(let replyId, let replyCode, _, _) = reply else {
                    Issue.record("expected a CALLERROR for \(frame), got \(reply)")
                    continue
                }
                #expect(replyId == id, "\(frame)")
                #expect(replyCode.rawValue == code, "\(frame)")
            }
            // An answer to a CALL the bridge never sent is dropped without a reply.
            cp.send(#"[3,"never-sent",{}]"#)
            let heartbeat = try await cp.call("Heartbeat", [:])
            guard case .callResult = heartbeat else { throw TestError("connection unusable: \(heartbeat)") }
            await cp.close()
        }
    }

    @Test func percentEncodedIdsAreDecoded() async throws {
        try await LiveBridge.run { live in
            let cp = try await TestChargePoint(url: live.ocppURL, id: "RDAM|123", pathId: "RDAM%7C123")
            _ = try await cp.call("BootNotification", Self.boot)
            let http = HTTP(port: live.apiPort)
            #expect(try await http.waitForTag("RDAM|123.Boot.Model") { $0 != nil } == "Fast-22")
            #expect(live.bridge.registry.info("RDAM|123")?.online == true)
            await cp.close()
        }
    }

    @Test func aNewConnectionReplacesTheOldOne() async throws {
        try await LiveBridge.run { live in
            let first = try await TestChargePoint(url: live.ocppURL, id: "CP-TWICE")
            _ = try await first.call("Heartbeat", [:])
            let second = try await TestChargePoint(url: live.ocppURL, id: "CP-TWICE")
            #expect(await first.waitUntilClosed())
            let beat = try await second.call("Heartbeat", [:])
            guard case .callResult = beat else { throw TestError("\(beat)") }
            #expect(live.bridge.registry.info("CP-TWICE")?.online == true)
            #expect(try await HTTP(port: live.apiPort).tag("CP-TWICE.Online") == true)
            await second.close()
        }
    }
}
