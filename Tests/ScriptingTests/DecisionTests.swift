import Foundation
import OCPPRPC
import Scripting
import TagStore
import Testing

@Suite struct DecisionTests {
    static let deciders = [
        "1-first.lua": """
            on_request('Authorize', function(cp, request)
              if request.idTag == 'GOOD' then return 'Accepted' end
              return nil
            end)
            """,
        "2-second.lua": """
            on_request('Authorize', function(cp, request)
              if request.idTag == 'BLOCK' then
                return {status = 'Blocked', expiryDate = '2030-01-01T00:00:00Z', parentIdTag = 'PARENT'}
              end
            end)
            on_request('DataTransfer', function(cp, request)
              return {status = 'Accepted', data = {echo = request.data, cp = cp}}
            end)
            """,
    ]

    @Test func theFirstNonNilAnswerIsWrittenStatusFirstResponseLast() async throws {
        let folder = try ScriptFolder(Self.deciders)
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty)

        engine.decisionRequested(action: "Authorize", chargePoint: "CP1", number: 1, payload: ["idTag": "GOOD"])
        #expect(await eventually { host.batches.count == 1 })
        #expect(host.batches[0].map(\.name) == ["CP1.Authorize.Status", "CP1.Authorize.Response"])
        #expect(host.batches[0].map(\.value) == [.string("Accepted"), .int(1)])

        engine.decisionRequested(action: "Authorize", chargePoint: "CP1", number: 2, payload: ["idTag": "BLOCK"])
        #expect(await eventually { host.batches.count == 2 })
        #expect(host.batches[1].map(\.name) == [
            "CP1.Authorize.Status", "CP1.Authorize.ExpiryDate", "CP1.Authorize.ParentIdTag", "CP1.Authorize.Response",
        ])
        #expect(host.batches[1].map(\.value) == [
            .string("Blocked"), .string("2030-01-01T00:00:00Z"), .string("PARENT"), .int(2),
        ])

        // Nobody decides request 3: nothing is written (request 4 proves it was handled).
        engine.decisionRequested(action: "Authorize", chargePoint: "CP1", number: 3, payload: ["idTag": "NOBODY"])
        engine.decisionRequested(action: "Authorize", chargePoint: "CP2", number: 4, payload: ["idTag": "GOOD"])
        #expect(await eventually { host.batches.count == 3 })
        try await Task.sleep(for: .milliseconds(20))
        #expect(host.batches.count == 3)
        #expect(host.batches[2].map(\.name) == ["CP2.Authorize.Status", "CP2.Authorize.Response"])
        #expect(host.batches[2].last?.value == .int(4))
    }

    @Test func dataTransferDataBecomesResponseData() async throws {
        let folder = try ScriptFolder(Self.deciders)
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        engine.decisionRequested(
            action: "DataTransfer", chargePoint: "CP9", number: 5, payload: ["vendorId": "V", "data": "hello", "messageId": nil])
        #expect(await eventually { host.batches.count == 1 })
        #expect(host.batches[0].map(\.name) == ["CP9.DataTransfer.Status", "CP9.DataTransfer.ResponseData", "CP9.DataTransfer.Response"])
        guard case .string(let data)? = host["CP9.DataTransfer.ResponseData"] else {
            Issue.record("no ResponseData")
            return
        }
        #expect(try JSONValue(parsing: data) == ["echo": "hello", "cp": "CP9"])
    }

    @Test func anErroringHandlerLeavesTheDecisionToTheNext() async throws {
        let folder = try ScriptFolder([
            "a.lua": "on_request('StopTransaction', function() error('no') end)\n",
            "b.lua": "on_request('StopTransaction', function(cp, r) return r.meterStop > 10 and 'Accepted' or 'Invalid' end)\n",
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        engine.decisionRequested(action: "StopTransaction", chargePoint: "CP1", number: 1, payload: ["meterStop": 20])
        #expect(await eventually { host.batches.count == 1 })
        #expect(host["CP1.StopTransaction.Status"] == .string("Accepted"))
        #expect(engine.errorCount == 1)
    }
}

@Suite struct CallTests {
    static func answer(_ cp: String, _ action: String, _ payload: JSONValue) async -> Result<JSONValue, ScriptCallError> {
        switch action {
        case "TriggerMessage": return .success(["status": "Accepted", "echo": payload])
        default: return .failure(ScriptCallError(code: "NotSupported", description: "\(action) is not supported"))
        }
    }

    static let scripts = [
        "calls.lua": """
            on_change('Go.*', function(name, action)
              local result, err = call('CP1', action, {requestedMessage = 'Heartbeat'})
              if result then
                tag.set('Result.' .. action, result.status .. ':' .. result.echo.requestedMessage)
              else
                tag.set('Error.' .. action, err.code .. ':' .. err.description)
              end
            end)
            on_request('Authorize', function(cp, request)
              local result = call(cp, 'TriggerMessage', {requestedMessage = request.idTag})
              return result.status
            end)
            on_change('Slow.Go', function()
              local result = call('CP1', 'Slow')
              tag.set('Slow.Done', result.status)
            end)
            on_change('Fast.Go', function() tag.set('Fast.Done', true) end)
            on_change('LoadTime', function() tag.set('Nested', tostring(pcall(coroutine.wrap(function() return call('CP1', 'X') end)))) end)
            """
    ]

    @Test func callSuspendsTheHandlerAndResumesWithTheResultOrAnError() async throws {
        let folder = try ScriptFolder(Self.scripts)
        defer { folder.remove() }
        let host = MemoryHost(answer: Self.answer)
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty)
        host.write("Go.1", "TriggerMessage")
        host.write("Go.2", "Reset")
        #expect(await eventually { host["Result.TriggerMessage"] == .string("Accepted:Heartbeat") })
        #expect(await eventually { host["Error.Reset"] == .string("NotSupported:Reset is not supported") })

        engine.decisionRequested(action: "Authorize", chargePoint: "CP7", number: 3, payload: ["idTag": "T"])
        #expect(await eventually { host["CP7.Authorize.Response"] == .int(3) })
        #expect(host["CP7.Authorize.Status"] == .string("Accepted"))
    }

    @Test func aSlowCallDoesNotDelayOtherEvents() async throws {
        let folder = try ScriptFolder(Self.scripts)
        defer { folder.remove() }
        let slow = HeldAnswers(result: ["status": "Late"])
        let host = MemoryHost { cp, action, payload in
            action == "Slow" ? await slow.answer() : await Self.answer(cp, action, payload)
        }
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        host.write("Slow.Go", 1)
        host.write("Fast.Go", 1)
        #expect(await eventually { host["Fast.Done"] == .bool(true) })
        #expect(slow.started == 1 && host["Slow.Done"] == nil)
        slow.release()
        #expect(await eventually { host["Slow.Done"] == .string("Late") })
    }

    @Test func callOutsideAHandlerCoroutineIsAnError() async throws {
        let folder = try ScriptFolder(Self.scripts.merging(["load.lua": "local ok, err = pcall(call, 'CP1', 'X')\ntag.set('AtLoad', tostring(err))\n"]) { a, _ in a })
        defer { folder.remove() }
        let host = MemoryHost(answer: Self.answer)
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        guard case .string(let atLoad)? = host["AtLoad"] else {
            Issue.record("no AtLoad")
            return
        }
        #expect(atLoad.contains("call() may only be used inside"))
        host.write("LoadTime", 1)
        #expect(await eventually { host["Nested"] == .string("false") })
    }
}
