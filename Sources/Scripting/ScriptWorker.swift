import Dispatch
import TagStore

/// The engine's thread: drains the job queue, fires timers, and owns the Lua runtime.
///
/// Only the thread running `run()` touches a worker (jobs receive it as their argument).
final class ScriptWorker {
    let core: EngineCore
    let queue: JobQueue
    /// The scripts' current Lua state; replaced by each load.
    private(set) var runtime: LuaRuntime?
    /// The last value seen of every tag an `on_change` pattern matched; kept across reloads.
    var lastValues: [String: TagValue] = [:]
    private var exiting = false

    init(core: EngineCore, queue: JobQueue) {
        self.core = core
        self.queue = queue
    }

    func run() {
        while !exiting {
            let (jobs, changedNames) = queue.take()
            for job in jobs where !exiting { job(self) }
            if exiting { break }
            if !changedNames.isEmpty { runtime?.tagsChanged(changedNames) }
            runtime?.fireDueTimers()
            if jobs.isEmpty && changedNames.isEmpty {
                queue.wait(until: runtime?.nextTimerDeadline)
            }
        }
        for job in queue.close() { job(self) }
        runtime?.close()
        runtime = nil
    }

    /// Ends the thread once the current job returns.
    func exit() {
        exiting = true
    }

    /// Loads every script into a new runtime which then replaces the current one.
    func loadScripts() -> [ScriptLoadError] {
        guard !exiting else { return [] }
        guard let fresh = LuaRuntime.make(core: core, worker: self, generation: core.nextGeneration()) else {
            let error = ScriptLoadError(file: core.directory, line: nil, message: "cannot create a Lua state")
            core.logger.error("script engine: cannot create a Lua state")
            return [error]
        }
        let (loaded, errors) = fresh.loadAll()
        let old = runtime
        runtime = fresh
        old?.close()
        fresh.publishFilter()
        core.setLoadedScripts(loaded)
        core.logger.info(
            "scripts loaded",
            metadata: ["scripts.loaded": "\(loaded.count)", "scripts.failed": "\(errors.count)"]
        )
        return errors
    }
}
