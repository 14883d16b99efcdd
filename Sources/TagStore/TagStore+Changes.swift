import GRDB

// The change feed: reads of `tag_changes`, the long poll, and subscriptions.
extension TagStore {
    /// Change-log rows with seq greater than `since`, oldest first (`since` 0: from the oldest retained).
    /// - Parameters:
    ///   - since: The last seq the caller has seen.
    ///   - limit: The most rows to return.
    public func changes(since seq: Int64, limit: Int = 1000) async throws -> [TagChange] {
        try checkOpen("changes")
        return try await storage("changes") {
            try await read { db in try TagRows.changes(db, after: seq, limit: limit) }
        }
    }

    /// Returns changes after `since` as soon as there is at least one, or an empty array after `timeout`.
    /// - Parameters:
    ///   - since: The last seq the caller has seen.
    ///   - timeout: How long to wait for a first change.
    ///   - limit: The most rows to return.
    public func waitForChanges(since seq: Int64, timeout: Duration, limit: Int = 1000) async throws -> [TagChange] {
        // Subscribe before reading, so a change committed in between is not missed.
        let feed = subscribe()
        let existing = try await changes(since: seq, limit: limit)
        guard existing.isEmpty else { return existing }
        let woke = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await batch in feed where batch.contains(where: { $0.seq > seq }) {
                    return true
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard woke else { return [] }
        return try await changes(since: seq, limit: limit)
    }

    /// A stream of every batch of new change-log rows, in seq order, from the bridge and other processes; with
    /// `ownWrites` false, only the rows other processes wrote (this process knows its own writes already, and
    /// they are not read back for it).
    ///
    /// The stream buffers without limit, so iterate it promptly; it finishes when the store closes.
    public func subscribe(ownWrites: Bool = true) -> AsyncStream<[TagChange]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [TagChange].self, bufferingPolicy: .unbounded)
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.nextSubscriberID += 1
            return state.nextSubscriberID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.subscribers.removeValue(forKey: id)
                state.externalSubscribers.removeValue(forKey: id)
            }
        }
        let registered = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if ownWrites {
                state.subscribers[id] = continuation
            } else {
                state.externalSubscribers[id] = continuation
            }
            return true
        }
        // Outside the lock: finishing runs onTermination, which takes the lock.
        if !registered { continuation.finish() }
        return stream
    }
}
