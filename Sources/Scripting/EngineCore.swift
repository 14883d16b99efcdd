import Dispatch
import Foundation
import Logging
import OCPPRPC
import Synchronization
import TagStore

/// The engine's shared, thread-safe part: configuration, the event filter, statistics and the queue of the
/// running thread. The worker thread holds it; the public `ScriptEngine` wraps it.
final class EngineCore: Sendable {
    let directory: String
    let host: any ScriptHost
    let configuration: ScriptEngineConfiguration
    let logger: Logger

    private let queue = Mutex<JobQueue?>(nil)
    let filter = Mutex(EventFilter())
    private let statistics = Mutex(Statistics())
    private let generations = Atomic<Int>(0)

    private struct Statistics {
        var errorCount = 0
        var loadedScripts: [String] = []
    }

    init(directory: String, host: any ScriptHost, configuration: ScriptEngineConfiguration, logger: Logger) {
        self.directory = directory
        self.host = host
        self.configuration = configuration
        self.logger = logger
    }

    /// The running thread's queue, starting the thread first if needed.
    func startThread() -> JobQueue {
        queue.withLock { queue in
            if let queue { return queue }
            let created = JobQueue()
            queue = created
            let thread = Thread { ScriptWorker(core: self, queue: created).run() }
            thread.name = "lua-scripts"
            thread.stackSize = 4 << 20
            thread.start()
            return created
        }
    }

    func stop() {
        let queue = self.queue.withLock { queue in
            defer { queue = nil }
            return queue
        }
        _ = queue?.enqueue { $0.exit() }
        filter.withLock { $0 = EventFilter() }
    }

    func tagsChanged(_ names: [String]) {
        let matching = filter.withLock { filter -> [String] in
            if filter.isEmpty { return [] }
            return names.filter { filter.matches($0) }
        }
        guard !matching.isEmpty, let queue = queue.withLock({ $0 }) else { return }
        queue.enqueueChanges(matching)
    }

    func decisionRequested(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
        guard filter.withLock({ $0.actions.contains(action) }) else { return }
        enqueue { worker in
            worker.runtime?.decide(action: action, chargePoint: chargePoint, number: number, payload: payload)
        }
    }

    var errorCount: Int { statistics.withLock { $0.errorCount } }
    var loadedScripts: [String] { statistics.withLock { $0.loadedScripts } }

    func enqueue(_ job: @escaping ScriptJob) {
        _ = queue.withLock { $0 }?.enqueue(job)
    }

    func countError() {
        statistics.withLock { $0.errorCount += 1 }
    }

    func setLoadedScripts(_ scripts: [String]) {
        statistics.withLock { $0.loadedScripts = scripts }
    }

    func nextGeneration() -> Int {
        generations.add(1, ordering: .relaxed).newValue
    }

    /// Queues a load of every script and suspends until it is done; [] if the thread stopped first.
    func load(on queue: JobQueue) async -> [ScriptLoadError] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[ScriptLoadError], Never>) in
            let queued = queue.enqueue { worker in continuation.resume(returning: worker.loadScripts()) }
            if !queued { continuation.resume(returning: []) }
        }
    }

    /// Queues a load of every script and waits for it; [] if the thread stopped first.
    func load(on queue: JobQueue) -> [ScriptLoadError] {
        let result = Mutex<[ScriptLoadError]>([])
        let done = DispatchSemaphore(value: 0)
        let queued = queue.enqueue { worker in
            let errors = worker.loadScripts()
            result.withLock { $0 = errors }
            done.signal()
        }
        guard queued else { return [] }
        done.wait()
        return result.withLock { $0 }
    }
}
