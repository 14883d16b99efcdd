import Logging
import OCPPRPC
import TagStore

/// The Lua 5.4 script engine: loads `*.lua` scripts and runs their triggers on one dedicated thread.
///
/// Every public method only queues work and returns at once, except `start` and `reload`, which wait for
/// the scripts to load. The Lua state is owned by the engine's thread; nothing else touches it.
public final class ScriptEngine: Sendable {
    let core: EngineCore

    /// Creates an engine for the scripts in `directory`; nothing runs before `start()`.
    public init(
        directory: String, host: any ScriptHost, configuration: ScriptEngineConfiguration = .init(), logger: Logger
    ) {
        core = EngineCore(directory: directory, host: host, configuration: configuration, logger: logger)
    }

    deinit {
        core.stop()
    }

    /// Starts the engine's thread (if not running) and loads every `*.lua` of the directory in name order.
    ///
    /// - Returns: the scripts that failed to load (with file, line and reason); the others run.
    @discardableResult
    public func start() -> [ScriptLoadError] {
        core.load(on: core.startThread())
    }

    /// Loads every script into a fresh Lua state, then drops the old one with its timers and suspended calls.
    ///
    /// Starts the engine if it is not running. Events queued meanwhile are handled by the new scripts.
    @discardableResult
    public func reload() -> [ScriptLoadError] {
        core.load(on: core.startThread())
    }

    /// Starts the engine like `start()`, suspending (not blocking a thread) until the scripts are loaded.
    @discardableResult
    public func start() async -> [ScriptLoadError] {
        await core.load(on: core.startThread())
    }

    /// Reloads the scripts like `reload()`, suspending (not blocking a thread) until they are loaded.
    @discardableResult
    public func reload() async -> [ScriptLoadError] {
        await core.load(on: core.startThread())
    }

    /// Stops the engine: timers stop, suspended calls are abandoned, the Lua state is closed.
    public func stop() {
        core.stop()
    }

    /// Tells the engine that tags were written (by any writer); names that no `on_change` pattern matches
    /// are dropped here, before anything is queued.
    public func tagsChanged(_ names: [String]) {
        core.tagsChanged(names)
    }

    /// Asks the `on_request` handlers of `action` to decide request `number` of a charge point; the first
    /// handler returning non-nil answers through the tag handshake.
    public func decisionRequested(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
        core.decisionRequested(action: action, chargePoint: chargePoint, number: number, payload: payload)
    }

    /// How many script errors (load errors, handler errors, exceeded limits) have occurred.
    public var errorCount: Int { core.errorCount }

    /// The scripts loaded without error by the last start or reload, in load order.
    public var loadedScripts: [String] { core.loadedScripts }
}
