import Foundation
import Logging
import Synchronization
import TagStore

/// The bridge's door to the tag store: every in-process writer (the bridge, the REST API, scripts) writes
/// through it, and anyone may wait for a tag to reach a value, whoever writes it — this process or another
/// one writing the SQLite file.
public final class TagService: Sendable {
    public let store: TagStore
    private let logger: Logger

    private struct Waiter {
        var predicate: @Sendable (TagValue?) -> Bool
        /// Called once: true when the predicate held, false when the deadline passed.
        var then: @Sendable (Bool) -> Void
        var deadline: ContinuousClock.Instant
    }

    private struct State {
        var waiters: [String: [Waiter]] = [:]
        var observers: [@Sendable ([String]) -> Void] = []
        /// Ends the waits whose timeout passed; runs while there are waiters, sleeping until the earliest
        /// deadline. One task for all waits: a timer task per wait cost a task, a cancellation that woke an event
        /// loop and a timer firing later for nothing, per decision (docs/performance.md).
        var sweeper: Task<Void, Never>?
        /// When the sweeper wakes next; nil when none runs.
        var sweeperWakes: ContinuousClock.Instant?
        /// Tells the current sweeper from one replaced by an earlier deadline.
        var sweeperNumber: UInt64 = 0
    }

    private let state = Mutex(State())

    public init(store: TagStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Writes tags (batched to disk by the store) and wakes whoever waits on them.
    public func write(_ writes: [TagWrite]) {
        guard !writes.isEmpty else { return }
        store.write(writes)
        changed(writes.map { $0.name })
    }

    /// Waits while the store's queue of uncommitted writes is full (``TagStore/waitForRoom()``).
    public func waitForRoom() async { await store.waitForRoom() }

    /// Whether `waitForRoom()` would return at once (``TagStore/hasRoom``).
    public var hasRoom: Bool { store.hasRoom }

    /// The current value of a tag.
    public func value(_ name: String) -> TagValue? { store.value(name) }

    /// The current tag, with its metadata.
    public func tag(_ name: String) -> Tag? { store.tag(name) }

    /// Calls `observer` with the names of tags that changed, from any writer. Observers must be quick.
    public func observe(_ observer: @escaping @Sendable ([String]) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// Waits until `predicate` holds for the tag's value, or `timeout` passes; returns whether it held.
    public func wait(for name: String, timeout: Duration, until predicate: @escaping @Sendable (TagValue?) -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            wait(for: name, timeout: timeout, until: predicate) { continuation.resume(returning: $0) }
        }
    }

    /// Calls `then` once, with true as soon as `predicate` holds for the tag's value, or with false when
    /// `timeout` passes. No task waits: `then` runs on the thread of the write that made the predicate hold (the
    /// script engine's, an API request's, or the caller's, at once, if it holds already), or on the timer's.
    public func wait(
        for name: String, timeout: Duration, until predicate: @escaping @Sendable (TagValue?) -> Bool,
        then: @escaping @Sendable (Bool) -> Void
    ) {
        if predicate(store.value(name)) {
            then(true)
            return
        }
        let deadline = ContinuousClock.now + timeout
        state.withLock { state in
            state.waiters[name, default: []].append(Waiter(predicate: predicate, then: then, deadline: deadline))
            if let wakes = state.sweeperWakes, wakes <= deadline { return }
            state.sweeper?.cancel()
            state.sweeperNumber += 1
            state.sweeperWakes = deadline
            let number = state.sweeperNumber
            state.sweeper = Task { [weak self] in await self?.sweep(number: number, until: deadline) }
        }
        // The value may have changed between the first check and registering.
        changed([name])
    }

    /// Sleeps until `wake`, ends the waits whose deadline passed, and goes on until the earliest deadline left;
    /// ends when no wait is left, or when a wait with an earlier deadline started another sweeper.
    private func sweep(number: UInt64, until wake: ContinuousClock.Instant) async {
        var wake = wake
        while true {
            do {
                try await Task.sleep(until: wake, clock: .continuous)
            } catch {
                return  // replaced by a sweeper that wakes earlier
            }
            let round = state.withLock { state -> (expired: [Waiter], next: ContinuousClock.Instant?)? in
                guard state.sweeperNumber == number else { return nil }
                let now = ContinuousClock.now
                var expired: [Waiter] = []
                var earliest: ContinuousClock.Instant?
                for (name, list) in state.waiters {
                    var keep: [Waiter] = []
                    for waiter in list {
                        if waiter.deadline <= now {
                            expired.append(waiter)
                        } else {
                            keep.append(waiter)
                            earliest = min(earliest ?? waiter.deadline, waiter.deadline)
                        }
                    }
                    if keep.count != list.count { state.waiters[name] = keep.isEmpty ? nil : keep }
                }
                state.sweeperWakes = earliest
                if earliest == nil { state.sweeper = nil }
                return (expired, earliest)
            }
            guard let round else { return }
            for waiter in round.expired { waiter.then(false) }
            guard let next = round.next else { return }
            wake = next
        }
    }

    /// Follows the store's change feed so that writes by other processes wake waiters and observers too (this
    /// process's writes woke them when written).
    public func run() async {
        for await batch in store.subscribe(ownWrites: false) {
            changed(batch.map { $0.name })
        }
    }

    private func changed(_ names: [String]) {
        var ready: [Waiter] = []
        let observers = state.withLock { state -> [@Sendable ([String]) -> Void] in
            if !state.waiters.isEmpty {
                for name in names {
                    guard let list = state.waiters[name] else { continue }
                    let value = store.value(name)
                    var keep: [Waiter] = []
                    for waiter in list {
                        if waiter.predicate(value) { ready.append(waiter) } else { keep.append(waiter) }
                    }
                    state.waiters[name] = keep.isEmpty ? nil : keep
                }
            }
            return state.observers
        }
        for waiter in ready { waiter.then(true) }
        for observer in observers { observer(names) }
    }
}
