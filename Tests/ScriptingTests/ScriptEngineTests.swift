import Foundation
import OCPPRPC
import Scripting
import TagStore
import Testing

@Suite struct ScriptEngineTests {
    @Test func loadsEveryScriptAndReportsASyntaxErrorWithFileAndLine() async throws {
        let folder = try ScriptFolder([
            "a.lua": "tag.set('A.Loaded', true)\n",
            "b.lua": "local x = 1\nlocal y = 2\nthis is not lua\n",
            "c.lua": "tag.set('C.Loaded', true)\n",
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.count == 1)
        #expect(errors.first?.file == "scripts/b.lua")
        #expect(errors.first?.line == 3)
        #expect(errors.first?.description.hasPrefix("scripts/b.lua:3: ") == true)
        #expect(engine.loadedScripts == ["scripts/a.lua", "scripts/c.lua"])
        #expect(host["A.Loaded"] == .bool(true))
        #expect(host["C.Loaded"] == .bool(true))
        #expect(engine.errorCount == 1)
        #expect(host.errors.first?.line == 3)
    }

    @Test func aRuntimeErrorAtLoadDropsThatScriptsHandlers() async throws {
        let folder = try ScriptFolder([
            "bad.lua": "on_change('X', function() tag.set('Bad.Ran', true) end)\nerror('broken')\n",
            "good.lua": "on_change('X', function() tag.set('Good.Ran', true) end)\n",
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.map(\.description) == ["scripts/bad.lua:2: broken"])
        host.write("X", 1)
        #expect(await eventually { host["Good.Ran"] == .bool(true) })
        #expect(host["Bad.Ran"] == nil)
    }

    @Test func tagGetSetAndList() async throws {
        let folder = try ScriptFolder([
            "tags.lua": """
                tag.set('X.Int', 42)
                tag.set('X.Float', 1.5)
                tag.set('X.String', 'text')
                tag.set('X.Bool', false)
                tag.set('X.Nil', nil)
                tag.set('Out.Pre', tag.get('Pre.Value'))
                tag.set('Out.Missing', tag.get('No.Such.Tag') == nil)
                local list = tag.list('X.')
                tag.set('Out.Count', #list)
                tag.set('Out.First', list[1].name .. '=' .. tostring(list[1].value))
                tag.set('Out.IntType', math.type(tag.get('X.Int')))
                """
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        host.write("Pre.Value", 7)
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty)
        #expect(host["X.Int"] == .int(42))
        #expect(host["X.Float"] == .double(1.5))
        #expect(host["X.String"] == .string("text"))
        #expect(host["X.Bool"] == .bool(false))
        #expect(host["X.Nil"] == .null)
        #expect(host["Out.Pre"] == .int(7))
        #expect(host["Out.Missing"] == .bool(true))
        #expect(host["Out.Count"] == .int(5))
        #expect(host["Out.First"] == .string("X.Bool=false"))
        #expect(host["Out.IntType"] == .string("integer"))
    }

    @Test func onChangeFiresWithValueAndOldOnlyForChangesOfMatchingTags() async throws {
        let folder = try ScriptFolder([
            "watch.lua": """
                on_change('*.Connector*.Status', function(name, value, old)
                  tag.set('Log', (tag.get('Log') or '') .. string.format('%s=%s/%s;', name, tostring(value), tostring(old)))
                end)
                """
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        host.write("CP1.Connector1.Status", "Available")
        #expect(await eventually { host["Log"] == .string("CP1.Connector1.Status=Available/nil;") })
        host.write("CP1.Connector1.Status", "Available")
        host.write("CP1.Connector1.ErrorCode", "NoError")
        host.write("CP1.Connector1.Status", "Charging")
        host.write("RDAM|1.Sub.Connector2.Status", "Faulted")
        let expected = "CP1.Connector1.Status=Available/nil;CP1.Connector1.Status=Charging/Available;"
            + "RDAM|1.Sub.Connector2.Status=Faulted/nil;"
        #expect(await eventually { host["Log"] == .string(expected) })
        try await Task.sleep(for: .milliseconds(50))
        #expect(host["Log"] == .string(expected))
    }

    @Test func everyFiresRepeatedlyUntilStopped() async throws {
        let folder = try ScriptFolder([
            "timer.lua": "local n = 0\nevery(0.05, function() n = n + 1; tag.set('Ticks', n) end)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        #expect(await eventually { (host["Ticks"].flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 0) >= 3 })
        engine.stop()
        // Stopped, the count stays put: it must rest for 300 ms (a timer every 50 ms would move it) well
        // within 30 s, however long the engine's thread waits to run its stop.
        var stopped = host["Ticks"]
        var restingSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now - restingSince < .milliseconds(300), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            if host["Ticks"] != stopped {
                stopped = host["Ticks"]
                restingSince = ContinuousClock.now
            }
        }
        #expect(ContinuousClock.now < deadline, "the timer kept firing after stop()")
        try await Task.sleep(for: .milliseconds(200))
        #expect(host["Ticks"] == stopped)
    }

    @Test func scriptsDoNotSeeEachOthersGlobals() async throws {
        let folder = try ScriptFolder([
            "a.lua": "shared = 'a'\nstring.upper = nil\n_G.viaG = 1\ntag.set('A.Sees', shared)\n",
            "b.lua": """
                tag.set('B.Shared', tostring(shared))
                tag.set('B.ViaG', tostring(viaG))
                tag.set('B.Upper', string.upper('x'))
                """,
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty)
        #expect(host["A.Sees"] == .string("a"))
        #expect(host["B.Shared"] == .string("nil"))
        #expect(host["B.ViaG"] == .string("nil"))
        #expect(host["B.Upper"] == .string("X"))
    }

    @Test func sandboxRemovesDangerousFunctions() async throws {
        let folder = try ScriptFolder([
            "sandbox.lua": """
                tag.set('S.execute', os.execute == nil)
                tag.set('S.exit', os.exit == nil)
                tag.set('S.io', io == nil)
                tag.set('S.require', require == nil)
                tag.set('S.dofile', dofile == nil)
                tag.set('S.loadfile', loadfile == nil)
                tag.set('S.package', package == nil)
                tag.set('S.debug', debug == nil)
                local f, err = load(string.dump(function() end))
                tag.set('S.binary', f == nil and tostring(err))
                tag.set('S.text', load('return 1 + 1')())
                tag.set('S.time', math.type(os.time()))
                tag.set('S.date', os.date('!%Y-%m-%d', 0))
                tag.set('S.clock', type(os.clock()))
                tag.set('S.stringmeta', getmetatable('') == false)
                local ok = pcall(collectgarbage, 'stop')
                tag.set('S.gcstop', ok)
                """
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, errors) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(errors.isEmpty, "\(errors)")
        for name in ["execute", "exit", "io", "require", "dofile", "loadfile", "package", "debug", "stringmeta"] {
            #expect(host["S." + name] == .bool(true), "\(name)")
        }
        guard case .string(let binary)? = host["S.binary"] else {
            Issue.record("binary chunk loaded: \(String(describing: host["S.binary"]))")
            return
        }
        #expect(binary.contains("binary"))
        #expect(host["S.text"] == .int(2))
        #expect(host["S.time"] == .string("integer"))
        #expect(host["S.date"] == .string("1970-01-01"))
        #expect(host["S.clock"] == .string("number"))
        #expect(host["S.gcstop"] == .bool(false))
    }

    @Test func reloadReplacesScriptsAndStopsOldTimers() async throws {
        let folder = try ScriptFolder([
            "main.lua": "every(0.02, function() tag.set('Old.Tick', (tag.get('Old.Tick') or 0) + 1) end)\n"
                + "on_change('Ping', function() tag.set('Pong', 'v1') end)\n"
        ])
        defer { folder.remove() }
        let host = MemoryHost()
        let (engine, _) = startEngine(folder, host: host)
        defer { engine.stop() }
        #expect(await eventually { host["Old.Tick"] != nil })
        host.write("Ping", 1)
        #expect(await eventually { host["Pong"] == .string("v1") })
        try folder.write("main.lua", "every(0.02, function() tag.set('New.Tick', true) end)\n"
            + "on_change('Ping', function() tag.set('Pong', 'v2') end)\n")
        let errors = await engine.reload()
        #expect(errors.isEmpty)
        host.write("Ping", 2)
        #expect(await eventually { host["Pong"] == .string("v2") })
        #expect(await eventually { host["New.Tick"] == .bool(true) })
        host.write("Old.Tick", "stopped")
        try await Task.sleep(for: .milliseconds(100))
        #expect(host["Old.Tick"] == .string("stopped"))
        #expect(engine.loadedScripts == ["scripts/main.lua"])
    }
}
