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
        var id: UInt64
        var predicate: @Sendable (TagValue?) -> Bool
        var continuation: CheckedContinuation<Bool, Never>
        /// Ends the wait at its timeout; cancelled when the tag gets there first, so that no timer outlives its
        /// wait (a decision handshake waits once per CALL).
        var timer: Task<Void, Never>
    }

    private struct State {
        var waiters: [String: [Waiter]] = [:]
        var nextWaiter: UInt64 = 0
        var observers: [@Sendable ([String]) -> Void] = []
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
        if predicate(store.value(name)) { return true }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withCheckedContinuation { continuation in
            let timer = Task { [weak self] in
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return  // resolved before the timeout
                }
                self?.expire(name: name, id: id)
            }
            state.withLock { state in
                state.waiters[name, default: []].append(
                    Waiter(id: id, predicate: predicate, continuation: continuation, timer: timer))
            }
            // The value may have changed between the first check and registering.
            changed([name])
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
        for waiter in ready {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: true)
        }
        for observer in observers { observer(names) }
    }

    private func expire(name: String, id: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard var list = state.waiters[name], let index = list.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = list.remove(at: index)
            state.waiters[name] = list.isEmpty ? nil : list
            return waiter.continuation
        }
        continuation?.resume(returning: false)
    }
}
