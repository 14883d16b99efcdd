import Foundation
@testable import Scripting
import Testing

@Suite struct HandlerErrorTests {
    @Test func aHandlerErrorIsReportedWithFileAndLineAndCounted() async throws {
        let folder = try ScriptFolder([
            "err.lua": "on_change('Err.Go', function()\n  error('boom')\nend)\n"
                + "on_change('Ok.Go', function() tag.set('Ok.Done', true) end)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        host.write("Err.Go", 1)
        #expect(await eventually { engine.errorCount == 1 })
        #expect(host.errors.first?.file == "scripts/err.lua")
        #expect(host.errors.first?.line == 2)
        #expect(host.errors.first?.message == "boom")
        host.write("Ok.Go", 1)
        #expect(await eventually { host["Ok.Done"] == .bool(true) })
    }

    @Test func aRunawayLoopIsStoppedByTheInstructionLimit() async throws {
        let folder = try ScriptFolder([
            "loop.lua": "on_change('Loop.Go', function()\n  while true do end\nend)\n"
                + "on_change('Ok.Go', function() tag.set('Ok.Done', true) end)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host, configuration: .init(instructionLimit: 1_000_000))
        defer { engine.stop() }
        host.write("Loop.Go", 1)
        #expect(await eventually { engine.errorCount == 1 })
        #expect(host.errors.first?.file == "scripts/loop.lua")
        #expect(host.errors.first?.line == 2)
        #expect(host.errors.first?.message == "instruction limit exceeded")
        host.write("Ok.Go", 1)
        #expect(await eventually { host["Ok.Done"] == .bool(true) })
        host.write("Loop.Go", 2)
        #expect(await eventually { engine.errorCount == 2 })
    }

    @Test func aMemoryHogIsStoppedByTheMemoryCap() async throws {
        let folder = try ScriptFolder([
            "hog.lua": "on_change('Hog.Go', function()\n"
                + "  local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) end\nend)\n"
                + "on_change('Ok.Go', function() tag.set('Ok.Done', #string.rep('y', 1000)) end)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host, configuration: .init(memoryLimit: 16 << 20))
        defer { engine.stop() }
        host.write("Hog.Go", 1)
        #expect(await eventually { engine.errorCount == 1 })
        #expect(host.errors.first?.message.contains("not enough memory") == true)
        host.write("Ok.Go", 1)
        #expect(await eventually { host["Ok.Done"] == .int(1000) })
    }
}

@Suite struct TagPatternTests {
    @Test(arguments: [
        ("*", "anything.at.all", true),
        ("CP1.Online", "CP1.Online", true),
        ("CP1.Online", "CP1.Online2", false),
        ("*.Connector*.Status", "CP1.Connector1.Status", true),
        ("*.Connector*.Status", "A.B.Connector12.Status", true),
        ("*.Connector*.Status", "CP1.Connector1.ErrorCode", false),
        ("CP*", "CP1.Connector1.Meter.Energy.Active.Import.Register", true),
        ("A.*.C", "A.C", false),
        ("A.*.C", "A..C", true),
        ("a*b*c", "abc", true),
        ("a*b*c", "acb", false),
    ])
    func matches(pattern: String, name: String, expected: Bool) {
        #expect(TagPattern(pattern).matches(name) == expected)
    }
}
