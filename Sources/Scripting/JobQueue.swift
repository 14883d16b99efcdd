import Dispatch
import Synchronization

/// Work for the engine's thread; it receives the thread's worker, which only that thread touches.
typealias ScriptJob = @Sendable (ScriptWorker) -> Void

/// The queue one engine thread drains: jobs in order, plus changed tag names coalesced into a set (their
/// values are read when handled, so a name queued twice needs handling once).
final class JobQueue: Sendable {
    private struct Pending {
        var jobs: [ScriptJob] = []
        var changedNames: [String] = []
        var changedSet: Set<String> = []
        var closed = false
    }

    private let pending = Mutex(Pending())
    private let semaphore = DispatchSemaphore(value: 0)

    /// Queues a job; false if the thread has ended (the job will never run).
    @discardableResult
    func enqueue(_ job: @escaping ScriptJob) -> Bool {
        let queued = pending.withLock { pending in
            if pending.closed { return false }
            pending.jobs.append(job)
            return true
        }
        if queued { semaphore.signal() }
        return queued
    }

    /// Refuses further jobs and returns those still queued (the ending thread runs them as no-ops).
    func close() -> [ScriptJob] {
        pending.withLock { pending in
            pending.closed = true
            defer { pending.jobs = [] }
            return pending.jobs
        }
    }

    func enqueueChanges(_ names: [String]) {
        let added = pending.withLock { pending in
            var added = false
            if pending.closed { return false }
            for name in names where pending.changedSet.insert(name).inserted {
                pending.changedNames.append(name)
                added = true
            }
            return added
        }
        if added { semaphore.signal() }
    }

    /// Everything queued so far, oldest first.
    func take() -> (jobs: [ScriptJob], changedNames: [String]) {
        pending.withLock { pending in
            defer {
                pending.jobs = []
                pending.changedNames = []
                pending.changedSet = []
            }
            return (pending.jobs, pending.changedNames)
        }
    }

    /// Sleeps until something is queued or `deadline` passes (forever without one).
    func wait(until deadline: DispatchTime?) {
        if let deadline {
            _ = semaphore.wait(timeout: deadline)
        } else {
            semaphore.wait()
        }
    }
}
