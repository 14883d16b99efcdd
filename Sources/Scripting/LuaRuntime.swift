import CLua
import Dispatch
import Foundation
import Logging
import OCPPRPC
import TagStore

/// One Lua state with the scripts loaded into it, their handlers, timers and suspended coroutines.
///
/// Owned by the engine's thread (`ScriptWorker`); not `Sendable` on purpose.
final class LuaRuntime {
    struct Handler {
        let ref: Int32
        let file: String
        /// The script whose loading registered the handler (nil for registrations made by handlers).
        let owner: String?
    }

    struct ChangeHandler {
        let pattern: TagPattern
        let handler: Handler
    }

    struct Timer {
        let id: Int
        let period: UInt64
        var next: UInt64
        let handler: Handler
        var busy = false
    }

    struct PendingCall {
        let thread: OpaquePointer
        let chargePoint: String
        let action: String
        let payload: JSONValue
    }

    /// Called when a handler's coroutine ends: with its stack and result count, or nil after an error.
    typealias Completion = (LuaRuntime, (thread: OpaquePointer, count: Int32)?) -> Void

    struct Coroutine {
        let thread: OpaquePointer
        let ref: Int32
        let file: String
        let onFinish: Completion
    }

    let core: EngineCore
    unowned let worker: ScriptWorker
    let generation: Int
    let L: OpaquePointer
    private let control: UnsafeMutablePointer<clua_control>
    var makeEnvRef = LUA_NOREF
    private var handlerThreadsRef = LUA_NOREF

    /// The script being loaded, while its top-level code runs.
    var loadingScript: String?
    var changeHandlers: [ChangeHandler] = []
    var requestHandlers: [String: [Handler]] = [:]
    var timers: [Timer] = []
    var suspended: [Int: Coroutine] = [:]
    private var nextID = 0
    /// Set by `call()` just before it yields; read when the resume returns.
    var pendingCall: PendingCall?
    /// The handler coroutine being resumed, if any.
    var currentThread: OpaquePointer?
    private var closed = false

    private init(core: EngineCore, worker: ScriptWorker, generation: Int, L: OpaquePointer,
                 control: UnsafeMutablePointer<clua_control>) {
        self.core = core
        self.worker = worker
        self.generation = generation
        self.L = L
        self.control = control
    }

    /// A new state with the sandboxed libraries, the API and the prelude; nil if Lua could not set it up.
    static func make(core: EngineCore, worker: ScriptWorker, generation: Int) -> LuaRuntime? {
        let limit = max(core.configuration.instructionLimit, 1)
        let control = UnsafeMutablePointer<clua_control>.allocate(capacity: 1)
        control.initialize(to: clua_control(
            used: 0, limit: max(core.configuration.memoryLimit, 1 << 20), strict: 0,
            budget: Int64(limit), granularity: Int32(min(limit, 1000)), exhausted: 0, host: nil))
        guard let L = clua_newstate(control) else {
            control.deallocate()
            return nil
        }
        let runtime = LuaRuntime(core: core, worker: worker, generation: generation, L: L, control: control)
        control.pointee.host = Unmanaged.passUnretained(runtime).toOpaque()
        guard runtime.setUp() else {
            runtime.close()
            return nil
        }
        return runtime
    }

    private var budget: Int64 { Int64(max(core.configuration.instructionLimit, 1)) }

    private func setUp() -> Bool {
        guard clua_opensandbox(L) == LUA_OK else { return false }
        registerAPI()
        let source = Array(LuaPrelude.source.utf8)
        let loaded = source.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(L, $0.baseAddress, $0.count, "=prelude", "t") }
        }
        guard loaded == LUA_OK else { return false }
        clua_pushglobaltable(L)
        clua_pushswiftfunction(L, luaLogWrite)
        clua_enter(L, budget)
        let status = clua_pcall(L, 2, 2, 0)
        clua_leave(L)
        guard status == LUA_OK else {
            core.logger.error("script engine: prelude failed", metadata: ["error": "\(LuaStack(L).string(at: -1) ?? "?")"])
            lua_settop(L, 0)
            return false
        }
        handlerThreadsRef = clua_ref(L)
        makeEnvRef = clua_ref(L)
        lua_settop(L, 0)
        return true
    }

    /// Closes the state: finalizers run under the budget; suspended coroutines are abandoned.
    func close() {
        guard !closed else { return }
        closed = true
        suspended = [:]
        timers = []
        changeHandlers = []
        requestHandlers = [:]
        clua_enter(L, budget)
        lua_close(L)
        control.deallocate()
    }

    // MARK: - Coroutines

    /// Runs a handler as a new coroutine with the arguments `pushArguments` pushes (returning their count).
    func spawn(_ handler: Handler, pushArguments: (LuaStack) -> Int32, onFinish: @escaping Completion) {
        guard !closed, let thread = lua_newthread(L) else { return }
        clua_getref(L, handlerThreadsRef)
        lua_pushvalue(L, -2)
        lua_pushboolean(L, 1)
        lua_rawset(L, -3)
        clua_pop(L, 1)
        let ref = clua_ref(L)
        clua_getref(thread, handler.ref)
        let arguments = pushArguments(LuaStack(thread))
        resume(Coroutine(thread: thread, ref: ref, file: handler.file, onFinish: onFinish), arguments: arguments)
    }

    /// Resumes a coroutine with `arguments` values on its stack, under a fresh instruction budget.
    func resume(_ coroutine: Coroutine, arguments: Int32) {
        currentThread = coroutine.thread
        pendingCall = nil
        var results: Int32 = 0
        clua_enter(L, budget)
        let status = lua_resume(coroutine.thread, L, arguments, &results)
        clua_leave(L)
        currentThread = nil
        guard !closed else { return }
        switch status {
        case LUA_OK:
            coroutine.onFinish(self, (coroutine.thread, results))
            finish(coroutine)
        case LUA_YIELD:
            clua_pop(coroutine.thread, results)
            if let call = pendingCall, call.thread == coroutine.thread {
                pendingCall = nil
                start(call, for: coroutine)
            } else {
                report(file: coroutine.file, message: "a handler may yield only inside call()", traceback: nil)
                finish(coroutine)
                coroutine.onFinish(self, nil)
            }
        default:
            let stack = LuaStack(coroutine.thread)
            let message = stack.string(at: -1) ?? "(error object is a \(stack.typeName(at: -1)) value)"
            clua_traceback_of(L, coroutine.thread, message)
            let traceback = LuaStack(L).string(at: -1)
            clua_pop(L, 1)
            report(file: coroutine.file, message: message, traceback: traceback)
            finish(coroutine)
            coroutine.onFinish(self, nil)
        }
    }

    private func finish(_ coroutine: Coroutine) {
        lua_settop(coroutine.thread, 0)
        clua_unref(L, coroutine.ref)
    }

    /// Starts the host's call in a task; its answer resumes the coroutine on the engine's thread.
    private func start(_ call: PendingCall, for coroutine: Coroutine) {
        nextID += 1
        let id = nextID
        suspended[id] = coroutine
        let core = self.core
        let generation = self.generation
        let (chargePoint, action, payload) = (call.chargePoint, call.action, call.payload)
        Task {
            let result = await core.host.call(chargePoint: chargePoint, action: action, payload: payload)
            core.enqueue { worker in
                worker.runtime?.resumeCall(id, generation: generation, result: result)
            }
        }
    }

    /// Resumes the coroutine suspended in call `id` with `result, err`.
    func resumeCall(_ id: Int, generation: Int, result: Result<JSONValue, ScriptCallError>) {
        guard generation == self.generation, !closed, let coroutine = suspended.removeValue(forKey: id) else { return }
        guard lua_status(coroutine.thread) == LUA_YIELD, lua_checkstack(coroutine.thread, 4) != 0 else {
            finish(coroutine)
            coroutine.onFinish(self, nil)
            return
        }
        let stack = LuaStack(coroutine.thread)
        var failure: ScriptCallError?
        switch result {
        case .success(let value):
            if stack.push(value) {
                lua_pushnil(coroutine.thread)
            } else {
                failure = ScriptCallError(code: "InternalError", description: "the answer is nested too deeply")
            }
        case .failure(let error):
            failure = error
        }
        if let failure {
            lua_pushnil(coroutine.thread)
            lua_createtable(coroutine.thread, 0, 2)
            stack.push(failure.code)
            stack.setField("code", tableAt: -2)
            stack.push(failure.description)
            stack.setField("description", tableAt: -2)
        }
        resume(coroutine, arguments: 2)
    }

    // MARK: - Errors

    /// Logs a script error with file and line, counts it and tells the host.
    func report(file: String, message: String, traceback: String?) {
        let location = ScriptLocation(message: message, defaultFile: file)
        var metadata: Logger.Metadata = ["script.file": "\(location.file)", "script.error": "\(location.text)"]
        if let line = location.line { metadata["script.line"] = "\(line)" }
        if let traceback { metadata["script.traceback"] = "\(traceback)" }
        core.logger.warning("script error", metadata: metadata)
        core.countError()
        core.host.scriptErrorOccurred(file: location.file, line: location.line, message: location.text)
    }
}
