import Foundation
import Logging
import OCPPRPC
import Scripting
import Synchronization
import TagStore
import Testing

/// Records every log entry (message, level, metadata).
struct RecordingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    let box: EntryBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        box.entries.withLock { $0.append(Entry(level: event.level, message: "\(event.message)", metadata: merged)) }
    }
}

@Suite struct LibraryTests {
    @Test func logAndPrintGoToTheLoggerWithTheScriptFile() async throws {
        let folder = try ScriptFolder([
            "talk.lua": "log.info('hello', 1, nil, true)\nlog.warn('careful')\nlog.error('bad', {})\nprint('printed', 2.5)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let box = EntryBox()
        let logger = Logger(label: "scripting-tests") { _ in RecordingLogHandler(box: box) }
        let engine = ScriptEngine(directory: folder.path, host: host, logger: logger)
        defer { engine.stop() }
        #expect(await engine.start().isEmpty)
        let scriptEntries = box.entries.withLock { $0 }.filter { $0.metadata["script.file"] == "scripts/talk.lua" }
        #expect(scriptEntries.map(\.level) == [.info, .warning, .error, .info])
        #expect(scriptEntries.first?.message == "hello 1 nil true")
        #expect(scriptEntries[2].message.hasPrefix("bad table: "))
        #expect(scriptEntries.last?.message == "printed 2.5")
    }

    @Test func jsonEncodesAndDecodesThroughOCPPRPC() async throws {
        let folder = try ScriptFolder([
            "json.lua": """
                tag.set('J.Encoded', json.encode({a = 1, b = {true, 'x'}, c = {}}))
                local value = json.decode('{"n": 1.5, "list": [1, 2, 3], "nested": {"k": "v"}, "none": null}')
                tag.set('J.N', value.n)
                tag.set('J.Count', #value.list)
                tag.set('J.Nested', value.nested.k)
                tag.set('J.None', value.none == nil)
                local bad, err = json.decode('{oops')
                tag.set('J.Error', bad == nil and err)
                local nope, why = json.encode({f = print})
                tag.set('J.EncodeError', nope == nil and why)
                """
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty, "\(errors)")
        guard case .string(let encoded)? = host["J.Encoded"] else {
            Issue.record("not encoded")
            return
        }
        #expect(try JSONValue(parsing: encoded) == ["a": 1, "b": [true, "x"], "c": [:]])
        #expect(host["J.N"] == .double(1.5))
        #expect(host["J.Count"] == .int(3))
        #expect(host["J.Nested"] == .string("v"))
        #expect(host["J.None"] == .bool(true))
        if case .string(let message)? = host["J.Error"] { #expect(message.contains("invalid JSON")) } else { Issue.record("no J.Error") }
        if case .string(let message)? = host["J.EncodeError"] { #expect(message.contains("function")) } else { Issue.record("no J.EncodeError") }
    }

    @Test func scriptsCannotResumeAHandlersSuspendedCoroutine() async throws {
        let folder = try ScriptFolder([
            "steal.lua": """
                on_change('Wait', function()
                  stolen = coroutine.running()
                  local result = call('CP1', 'Slow')
                  tag.set('Wait.Done', result.status)
                end)
                on_change('Steal', function()
                  local ok, err = coroutine.resume(stolen, {status = 'forged'})
                  tag.set('Steal.Result', tostring(ok) .. ':' .. tostring(err))
                end)
                """
        ])
        defer { folder.remove() }
        let held = HeldAnswers(result: ["status": "real"])
        let host = MemoryHost(answer: { _, _, _ in await held.answer() })
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        host.write("Wait", 1)
        host.write("Steal", 1)
        #expect(await eventually { host["Steal.Result"] == .string("false:cannot resume a handler's coroutine") })
        held.release()
        #expect(await eventually { host["Wait.Done"] == .string("real") })
    }

    @Test func namesNoPatternMatchesAreNotQueued() async throws {
        let folder = try ScriptFolder(["w.lua": "on_change('Only.This', function(n, v) tag.set('Seen', v) end)\n"])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        // Uninteresting names are filtered on the caller's thread; the one that matches still arrives.
        let names = (0..<1000).map { "CP\($0).Connector1.Meter.Power.Active.Import" }
        for _ in 0..<100 { engine.tagsChanged(names) }
        host.write("Only.This", 5)
        #expect(await eventually { host["Seen"] == .int(5) })
        #expect(host["Seen"] == .int(5))
    }
}

final class EntryBox: Sendable {
    let entries = Mutex<[RecordingLogHandler.Entry]>([])
}

@Suite struct ReloadTests {
    @Test func aCallInFlightDuringReloadIsAbandonedSafely() async throws {
        let source = """
            on_change('Go', function()
              local result = call('CP1', 'Slow')
              tag.set('Late', result.status)
            end)
            on_change('Ping', function(name, value) tag.set('Pong', value) end)
            """
        let folder = try ScriptFolder(["slow.lua": source])
        defer { folder.remove() }
        let held = HeldAnswers(result: ["status": "answered"])
        let host = MemoryHost(answer: { _, _, _ in await held.answer() })
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        host.write("Go", 1)
        #expect(await eventually { held.started == 1 })
        #expect(await engine.reload().isEmpty)
        held.release()
        try await Task.sleep(for: .milliseconds(300))  // time for the abandoned answer to (wrongly) land
        #expect(host["Late"] == nil)
        host.write("Ping", 7)
        #expect(await eventually { host["Pong"] == .int(7) })
        host.write("Go", 2)
        #expect(await eventually { host["Late"] == .string("answered") })
        #expect(engine.errorCount == 0)
    }

    @Test func stopWithACallInFlightEndsCleanly() async throws {
        let folder = try ScriptFolder(["slow.lua": "on_change('Go', function() call('CP1', 'Slow'); tag.set('Late', true) end)\n"])
        defer { folder.remove() }
        let held = HeldAnswers(result: [:])
        let host = MemoryHost(answer: { _, _, _ in await held.answer() })
        let (engine, _) = startEngine(folder, host: host)
        host.write("Go", 1)
        #expect(await eventually { held.started == 1 })
        engine.stop()
        held.release()
        try await Task.sleep(for: .milliseconds(200))  // time for the abandoned answer to (wrongly) land
        #expect(host["Late"] == nil)
        // Started again, the engine serves as before.
        #expect(await engine.start().isEmpty)
        host.write("Go", 2)
        #expect(await eventually { host["Late"] == .bool(true) })
        engine.stop()
    }
}
