import Foundation
import OCPPRPC
import Testing

/// Decisions through tags: a SCADA client answers over REST or straight into the SQLite file.
@Suite(.timeLimit(.minutes(2))) struct HandshakeTests {
    /// Answers the next `{cp}.{kind}` request over REST with `status`.
    static func answer(_ http: HTTP, _ prefix: String, request: Int64, status: String, data: String? = nil) async throws {
        let seen = try await http.waitForTag("\(prefix).Request") { $0?.intValue == request }
        let all = try await http.get("/api/tags?prefix=\(prefix)").body
        #expect(seen?.intValue == request, "\(all)")
        #expect(try await http.put("/api/tags/\(prefix).Status", ["value": .string(status)]).status == 200)
        if let data {
            #expect(try await http.put("/api/tags/\(prefix).ResponseData", ["value": .string(data)]).status == 200)
        }
        #expect(try await http.put("/api/tags/\(prefix).Response", ["value": .int(request)]).status == 200)
    }

    @Test func authorizeIsDecidedByARestClientAcceptedThenBlocked() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-AUTH")
            async let first = cp.call("Authorize", ["idTag": "GOOD1"])
            try await Self.answer(http, "CP-AUTH.Authorize", request: 1, status: "Accepted")
            guard case .callResult(_, let accepted) = try await first else { throw TestError("no result") }
            #expect(accepted["idTagInfo"]?["status"] == "Accepted")
            #expect(try await http.tag("CP-AUTH.Authorize.IdTag") == "GOOD1")

            async let second = cp.call("Authorize", ["idTag": "BAD1"])
            try await Self.answer(http, "CP-AUTH.Authorize", request: 2, status: "Blocked")
            guard case .callResult(_, let blocked) = try await second else { throw TestError("no result") }
            #expect(blocked["idTagInfo"]?["status"] == "Blocked")
            // The request fields are the bridge's: read-only.
            #expect(try await http.put("/api/tags/CP-AUTH.Authorize.IdTag", ["value": "X"]).status == 403)
            await cp.close()
        }
    }

    @Test func optionalAnswerPartsReachTheChargePointAndDoNotLeakIntoTheNextAnswer() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-EXTRA")
            async let first = cp.call("Authorize", ["idTag": "CHILD1"])
            _ = try await http.waitForTag("CP-EXTRA.Authorize.Request") { $0 == 1 }
            #expect(try await http.put("/api/tags/CP-EXTRA.Authorize.ExpiryDate", ["value": "2027-01-01T00:00:00+01:00"]).status == 200)
            #expect(try await http.put("/api/tags/CP-EXTRA.Authorize.ParentIdTag", ["value": "FLEET7"]).status == 200)
            try await Self.answer(http, "CP-EXTRA.Authorize", request: 1, status: "Accepted")
            guard case .callResult(_, let answer) = try await first else { throw TestError("no result") }
            #expect(answer["idTagInfo"] == ["status": "Accepted", "expiryDate": "2026-12-31T23:00:00.000Z", "parentIdTag": "FLEET7"])

            async let second = cp.call("Authorize", ["idTag": "OTHER"])
            try await Self.answer(http, "CP-EXTRA.Authorize", request: 2, status: "Accepted")
            guard case .callResult(_, let plain) = try await second else { throw TestError("no result") }
            #expect(plain["idTagInfo"] == ["status": "Accepted"])
            await cp.close()
        }
    }

    @Test func nobodyAnsweringAppliesTheConfiguredDefault() async throws {
        try await LiveBridge.run(configure: {
            $0.decisionTimeout = .milliseconds(300)
            $0.decisionDefaults.authorize = "Blocked"
        }) { live in
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-SLOW")
            let started = ContinuousClock.now
            guard case .callResult(_, let answer) = try await cp.call("Authorize", ["idTag": "NOBODY"]) else { throw TestError("no result") }
            #expect(answer["idTagInfo"]?["status"] == "Blocked")
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            // A stop nobody decides is accepted: the session has ended either way.
            guard case .callResult(_, let stop) = try await cp.call("StopTransaction", [
                "transactionId": 999, "meterStop": 10, "timestamp": "2026-01-01T00:00:00Z", "idTag": "NOBODY",
            ]) else { throw TestError("no result") }
            #expect(stop["idTagInfo"]?["status"] == "Accepted")
            await cp.close()
        }
    }

    @Test func anotherProcessWritingTheSQLiteFileAnswersTheHandshake() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-SQL")
            async let answer = cp.call("Authorize", ["idTag": "FROMSQL"])
            _ = try await http.waitForTag("CP-SQL.Authorize.Request") { $0 == 1 }
            try await Task.sleep(for: .milliseconds(50))  // let the batch reach the file
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [
                live.databasePath,
                "UPDATE tags SET value='Accepted' WHERE name='CP-SQL.Authorize.Status'; UPDATE tags SET value=1 WHERE name='CP-SQL.Authorize.Response';",
            ]
            try sqlite.run()
            sqlite.waitUntilExit()
            #expect(sqlite.terminationStatus == 0)
            guard case .callResult(_, let result) = try await answer else { throw TestError("no result") }
            #expect(result["idTagInfo"]?["status"] == "Accepted")
            await cp.close()
        }
    }

    @Test func transactionsGetIncreasingIdsAndEndUpInTheTags() async throws {
        try await LiveBridge.run { live in
            let http = HTTP(port: live.apiPort)
            let cp = try await TestChargePoint(url: live.ocppURL, id: "CP-TX")
            var ids: [Int64] = []
            for round in 1...2 {
                async let start = cp.call("StartTransaction", [
                    "connectorId": 1, "idTag": "TAG1", "meterStart": .int(Int64(1000 * round)), "timestamp": .string("2026-01-01T10:00:0\(round)Z"),
                ])
                try await Self.answer(http, "CP-TX.StartTransaction", request: Int64(round), status: "Accepted")
                guard case .callResult(_, let started) = try await start else { throw TestError("no result") }
                #expect(started["idTagInfo"]?["status"] == "Accepted")
                let id = try #require(started["transactionId"]?.intValue)
                ids.append(id)
                #expect(try await http.waitForTag("CP-TX.Connector1.Transaction.Active") { $0 == true } == true)

                async let stop = cp.call("StopTransaction", [
                    "transactionId": .int(id), "meterStop": .int(Int64(1000 * round + 500)), "timestamp": "2026-01-01T11:00:00Z",
                    "reason": "EVDisconnected",
                ])
                try await Self.answer(http, "CP-TX.StopTransaction", request: Int64(round), status: "Accepted")
                guard case .callResult(_, let stopped) = try await stop else { throw TestError("no result") }
                #expect(stopped == [:], "no idTag, so no idTagInfo")
                #expect(try await http.waitForTag("CP-TX.Connector1.Transaction.Active") { $0 == false } == false)
                #expect(try await http.tag("CP-TX.Connector1.Transaction.Id")?.intValue == id)
                #expect(try await http.tag("CP-TX.Connector1.Transaction.Reason") == "EVDisconnected")
            }
            #expect(ids[1] > ids[0])
            let record = try #require(try await live.bridge.tags.store.transaction(id: ids[0]))
            #expect(record.meterStop == 1500)
            #expect(record.chargePoint == "CP-TX")
            await cp.close()
        }
    }
}
