import CLua
import Logging
import OCPPRPC
import TagStore

// The scripts' API, implemented in Swift. Each function is reached through `clua_trampoline`: it returns a
// result count, or `CLUA_RAISE` with a message pushed (the trampoline raises the error in C), or `CLUA_YIELD`.
// None of them may call lua_error, luaL_error or luaL_check* (they would longjmp across Swift frames).

extension LuaRuntime {
    /// Installs `tag`, `json`, `on_change`, `every`, `on_request` and `call` into the globals.
    func registerAPI() {
        clua_pushglobaltable(L)
        let stack = LuaStack(L)
        lua_createtable(L, 0, 3)
        setFunction(luaTagGet, "get")
        setFunction(luaTagSet, "set")
        setFunction(luaTagList, "list")
        stack.setField("tag", tableAt: -2)
        lua_createtable(L, 0, 2)
        setFunction(luaJSONEncode, "encode")
        setFunction(luaJSONDecode, "decode")
        stack.setField("json", tableAt: -2)
        setFunction(luaOnChange, "on_change")
        setFunction(luaEvery, "every")
        setFunction(luaOnRequest, "on_request")
        setFunction(luaCall, "call")
        clua_pop(L, 1)
    }

    /// Sets `name` of the table on the top of the stack to a Swift function.
    private func setFunction(_ function: lua_CFunction, _ name: String) {
        clua_pushswiftfunction(L, function)
        LuaStack(L).setField(name, tableAt: -2)
    }

    /// A handler for the function at `index`: a registry reference, its file, and the script being loaded.
    func handler(at index: Int32, in thread: OpaquePointer) -> Handler {
        lua_pushvalue(thread, index)
        let source = String(cString: clua_functionsource(thread))
        lua_pushvalue(thread, index)
        let ref = clua_ref(thread)
        let file = source.hasPrefix("@") ? String(source.dropFirst()) : source
        return Handler(ref: ref, file: file, owner: loadingScript)
    }
}

/// The runtime of the state `L` belongs to.
private func runtime(_ L: OpaquePointer?) -> (L: OpaquePointer, runtime: LuaRuntime)? {
    guard let L, let host = clua_control_of(L).pointee.host else { return nil }
    return (L, Unmanaged<LuaRuntime>.fromOpaque(host).takeUnretainedValue())
}

/// Pushes "file:line: message" (the caller's location) and returns the sentinel that raises it.
private func raise(_ L: OpaquePointer, _ message: String) -> Int32 {
    luaL_where(L, 1)
    LuaStack(L).push(message)
    lua_concat(L, 2)
    return CLUA_RAISE
}

private func badArgument(_ L: OpaquePointer, _ position: Int32, _ function: String, _ expected: String) -> Int32 {
    raise(L, "bad argument #\(position) to '\(function)' (\(expected) expected, got \(LuaStack(L).typeName(at: position)))")
}

private func luaTagGet(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let name = stack.string(at: 1) else { return badArgument(L, 1, "tag.get", "string") }
    stack.push(runtime.core.host.readTag(name))
    return 1
}

private func luaTagSet(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let name = stack.string(at: 1) else { return badArgument(L, 1, "tag.set", "string") }
    switch stack.tagValue(at: 2) {
    case .success(let value): runtime.core.host.writeTags([(name, value)])
    case .failure(let error): return raise(L, "bad argument #2 to 'tag.set' (\(error))")
    }
    return 0
}

private func luaTagList(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    let prefix: String
    if stack.type(at: 1) <= LUA_TNIL {
        prefix = ""
    } else if let given = stack.string(at: 1) {
        prefix = given
    } else {
        return badArgument(L, 1, "tag.list", "string")
    }
    let tags = runtime.core.host.listTags(prefix: prefix)
    lua_createtable(L, Int32(clamping: tags.count), 0)
    for (offset, tag) in tags.enumerated() {
        lua_createtable(L, 0, 2)
        stack.push(tag.name)
        stack.setField("name", tableAt: -2)
        stack.push(tag.value)
        stack.setField("value", tableAt: -2)
        lua_rawseti(L, -2, lua_Integer(offset + 1))
    }
    return 1
}

private func luaOnChange(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let pattern = stack.string(at: 1) else { return badArgument(L, 1, "on_change", "string") }
    guard stack.type(at: 2) == LUA_TFUNCTION else { return badArgument(L, 2, "on_change", "function") }
    runtime.addChangeHandler(pattern: pattern, handler: runtime.handler(at: 2, in: L))
    return 0
}

private func luaEvery(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let seconds = stack.number(at: 1) else { return badArgument(L, 1, "every", "number") }
    let minimum = runtime.core.configuration.minimumTimerPeriod
    guard seconds >= minimum, seconds < 1e9 else {
        return raise(L, "bad argument #1 to 'every' (the period must be between \(minimum) and 1e9 seconds)")
    }
    guard stack.type(at: 2) == LUA_TFUNCTION else { return badArgument(L, 2, "every", "function") }
    runtime.addTimer(period: UInt64(seconds * 1e9), handler: runtime.handler(at: 2, in: L))
    return 0
}

private func luaOnRequest(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let action = stack.string(at: 1) else { return badArgument(L, 1, "on_request", "string") }
    guard stack.type(at: 2) == LUA_TFUNCTION else { return badArgument(L, 2, "on_request", "function") }
    runtime.addRequestHandler(action: action, handler: runtime.handler(at: 2, in: L))
    return 0
}

private func luaCall(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard runtime.currentThread == L, lua_isyieldable(L) != 0 else {
        return raise(L, "call() may only be used inside an on_change, every or on_request handler (not at load time, in a nested coroutine or in a metamethod)")
    }
    guard let chargePoint = stack.string(at: 1) else { return badArgument(L, 1, "call", "string") }
    guard let action = stack.string(at: 2) else { return badArgument(L, 2, "call", "string") }
    let payload: JSONValue
    switch stack.type(at: 3) {
    case LUA_TNONE, LUA_TNIL: payload = .object([:])
    case LUA_TTABLE:
        switch stack.json(at: 3) {
        case .success(let value): payload = value
        case .failure(let error): return raise(L, "bad argument #3 to 'call' (\(error))")
        }
    default: return badArgument(L, 3, "call", "table")
    }
    runtime.pendingCall = LuaRuntime.PendingCall(thread: L, chargePoint: chargePoint, action: action, payload: payload)
    return CLUA_YIELD
}

private func luaJSONEncode(_ L: OpaquePointer?) -> Int32 {
    guard let (L, _) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    switch stack.json(at: 1) {
    case .success(let value):
        stack.push(value.jsonText)
        return 1
    case .failure(let error):
        lua_pushnil(L)
        stack.push(error.description)
        return 2
    }
}

private func luaJSONDecode(_ L: OpaquePointer?) -> Int32 {
    guard let (L, _) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    guard let text = stack.string(at: 1) else { return badArgument(L, 1, "json.decode", "string") }
    do {
        let value = try JSONValue(parsing: text)
        guard stack.push(value) else {
            lua_pushnil(L)
            stack.push("JSON nested too deeply")
            return 2
        }
        return 1
    } catch {
        lua_pushnil(L)
        stack.push(error.description)
        return 2
    }
}

/// `log_write(level, file, message)`, given to the prelude (scripts call `log.*` and `print`).
func luaLogWrite(_ L: OpaquePointer?) -> Int32 {
    guard let (L, runtime) = runtime(L) else { return 0 }
    let stack = LuaStack(L)
    let level = stack.string(at: 1) ?? "info"
    let file = stack.string(at: 2) ?? "?"
    let message = stack.string(at: 3) ?? ""
    let logLevel: Logger.Level =
        switch level {
        case "debug": .debug
        case "warn": .warning
        case "error": .error
        default: .info
        }
    runtime.core.logger.log(level: logLevel, "\(message)", metadata: ["script.file": "\(file)"])
    return 0
}
