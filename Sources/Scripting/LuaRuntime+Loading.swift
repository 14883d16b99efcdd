import CLua
import Foundation
import Logging

extension LuaRuntime {
    /// Loads every `*.lua` of the directory in name order, each in its own environment.
    func loadAll() -> (loaded: [String], errors: [ScriptLoadError]) {
        let directory = core.directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            core.logger.info("no scripts directory", metadata: ["scripts.directory": "\(directory)"])
            return ([], [])
        }
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".lua") }.sorted()
        } catch {
            let failure = ScriptLoadError(file: directory, line: nil, message: "cannot list the scripts: \(error)")
            report(loadError: failure)
            return ([], [failure])
        }
        let folder = URL(fileURLWithPath: directory).lastPathComponent
        var loaded: [String] = []
        var errors: [ScriptLoadError] = []
        for file in files {
            let name = folder.isEmpty ? file : "\(folder)/\(file)"
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file).path
            if let failure = load(path: path, name: name) {
                removeRegistrations(of: name)
                report(loadError: failure)
                errors.append(failure)
            } else {
                loaded.append(name)
            }
        }
        return (loaded, errors)
    }

    /// Loads and runs one script; its top-level code registers its handlers.
    private func load(path: String, name: String) -> ScriptLoadError? {
        guard let data = FileManager.default.contents(atPath: path) else {
            return ScriptLoadError(file: name, line: nil, message: "cannot read \(path)")
        }
        lua_settop(L, 0)
        clua_pushtraceback(L)
        var bytes = [UInt8](data)
        if bytes.isEmpty { bytes = [0x20] }
        clua_enter(L, Int64(max(core.configuration.instructionLimit, 1)))
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(L, $0.baseAddress, $0.count, "@" + name, "t") }
        }
        clua_leave(L)
        guard status == LUA_OK else { return loadError(name: name) }
        clua_getref(L, makeEnvRef)
        LuaStack(L).push(name)
        clua_enter(L, Int64(max(core.configuration.instructionLimit, 1)))
        let made = clua_pcall(L, 1, 1, 1)
        clua_leave(L)
        guard made == LUA_OK else { return loadError(name: name) }
        lua_setupvalue(L, -2, 1)
        loadingScript = name
        clua_enter(L, Int64(max(core.configuration.instructionLimit, 1)))
        let ran = clua_pcall(L, 0, 0, 1)
        clua_leave(L)
        loadingScript = nil
        guard ran == LUA_OK else { return loadError(name: name) }
        lua_settop(L, 0)
        return nil
    }

    private func loadError(name: String) -> ScriptLoadError {
        let message = LuaStack(L).string(at: -1) ?? "unknown error"
        lua_settop(L, 0)
        let location = ScriptLocation(message: message, defaultFile: name)
        if message.contains("\n") {
            core.logger.debug("script load traceback", metadata: ["script.file": "\(name)", "script.traceback": "\(message)"])
        }
        return ScriptLoadError(file: location.file, line: location.line, message: location.text)
    }

    private func report(loadError: ScriptLoadError) {
        var metadata: Logger.Metadata = ["script.file": "\(loadError.file)", "script.error": "\(loadError.message)"]
        if let line = loadError.line { metadata["script.line"] = "\(line)" }
        core.logger.warning("script failed to load", metadata: metadata)
        core.countError()
        core.host.scriptErrorOccurred(file: loadError.file, line: loadError.line, message: loadError.message)
    }

    /// Drops the handlers and timers a script registered before its loading failed.
    private func removeRegistrations(of script: String) {
        var refs: [Int32] = []
        changeHandlers.removeAll { entry in
            guard entry.handler.owner == script else { return false }
            refs.append(entry.handler.ref)
            return true
        }
        for action in requestHandlers.keys {
            requestHandlers[action]?.removeAll { handler in
                guard handler.owner == script else { return false }
                refs.append(handler.ref)
                return true
            }
            if requestHandlers[action]?.isEmpty == true { requestHandlers[action] = nil }
        }
        timers.removeAll { timer in
            guard timer.handler.owner == script else { return false }
            refs.append(timer.handler.ref)
            return true
        }
        for ref in refs { clua_unref(L, ref) }
    }
}
