import GRDB
import Logging

// The write path (batched commits) and the external-change poller. Both run on GRDB's writer
// queue, one at a time, which keeps the change feed in seq order without another lock.
extension TagStore {
    /// Commits every queued write now and returns once the commit is done.
    public func flush() async throws {
        try checkOpen("flush")
        try await commitQueued(all: true)
    }

    /// Commits the queue (if any) on the writer queue, which also waits for commits in progress: one batch
    /// of at most `maxBatch` writes, or with `all` every batch until the queue is empty.
    func commitQueued(all: Bool = false) async throws {
        try await storage("flush") {
            try await pool.writeWithoutTransaction { db in
                repeat {
                    try self.commitPending(db)
                } while all && self.state.withLock({ !$0.pending.isEmpty })
            }
        }
    }

    /// Drains the queue and commits it in one transaction; on failure puts it back in front.
    ///
    /// Runs on the writer queue: change-log rows other processes committed before this
    /// transaction are read first (and folded into the mirror), then ours, so subscribers get
    /// every row once, in seq order.
    private func commitPending(_ db: Database) throws {
        let limit = configuration.maxBatch
        let (batch, more) = state.withLock { state -> ([TagWrite], Bool) in
            guard state.pending.count > limit else {
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    pendingCount.store(0, ordering: .relaxed)
                }
                return (state.pending, false)
            }
            let head = Array(state.pending.prefix(limit))
            state.pending.removeFirst(limit)
            pendingCount.store(state.pending.count, ordering: .relaxed)
            return (head, true)
        }
        guard !batch.isEmpty else { return }
        // The rest goes in the next commit; other work on the writer (the external poll) gets a turn first.
        if more { flushSignal.yield() }
        var external: [TagChange] = []
        var externalTags: [String: Tag?] = [:]
        var ownAfter: Int64 = 0
        var lastSeq: Int64 = 0
        do {
            try db.inTransaction(.immediate) {
                let delivered = state.withLock { $0.deliveredSeq }
                external = try TagRows.changes(db, after: delivered)
                try TagRows.write(batch, in: db)
                // Our rows are those after `ownAfter` up to the sequence's end: nobody else writes while we hold
                // the write lock.
                ownAfter = external.last?.seq ?? delivered
                lastSeq = max(try TagRows.lastSeq(db), ownAfter)
                if !external.isEmpty {
                    // Read after our upserts: the rows as they stand once this commits.
                    externalTags = try TagRows.fetch(db, names: Set(external.map(\.name)))
                }
                return .commit
            }
        } catch {
            state.withLock { state in
                state.pending.insert(contentsOf: batch, at: 0)
                pendingCount.store(state.pending.count, ordering: .relaxed)
            }
            throw error
        }
        // Our own rows are read back only for subscribers of every change (the REST long poll); this process
        // knows its writes already. Checked after the commit, so a subscriber that came during it gets them.
        var own: [TagChange] = []
        if lastSeq > ownAfter, state.withLock({ !$0.subscribers.isEmpty }) {
            do {
                own = try TagRows.changes(db, after: ownAfter, limit: Int(lastSeq - ownAfter))
            } catch {
                logger.info("reading back committed changes failed", metadata: ["tagstore.error": "\(error)"])
            }
        }
        publish(external: external, own: own, through: lastSeq, externalTags: externalTags, flushedWrites: batch.count)
        releaseWaitersIfRoom()
        trimIfDue(db)
    }

    /// Flushes from the background task; on failure logs, backs off and tries again.
    func backgroundFlush() async {
        do {
            try await commitQueued()
            state.withLock { $0.consecutiveFlushFailures = 0 }
        } catch {
            let failures = state.withLock { state in
                state.consecutiveFlushFailures += 1
                return state.consecutiveFlushFailures
            }
            logger.info(
                "tag flush failed, will retry",
                metadata: ["tagstore.error": "\(error)", "tagstore.failures": "\(failures)"])
            try? await Task.sleep(for: .milliseconds(min(100 * failures, 2_000)))
            flushSignal.yield()
        }
    }

    /// Polls for changes by other processes from the background task.
    func backgroundPoll() async {
        do {
            try await pool.writeWithoutTransaction { db in try self.pollExternal(db) }
        } catch where !Task.isCancelled {
            logger.debug("external change poll failed", metadata: ["tagstore.error": "\(error)"])
        } catch {
            // Cancelled by close().
        }
    }

    /// Delivers change-log rows committed by other processes and folds them into the mirror.
    ///
    /// Runs on the writer connection, whose `PRAGMA data_version` changes only when another
    /// connection commits, so an idle poll costs one pragma.
    private func pollExternal(_ db: Database) throws {
        let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
        let changed = state.withLock { state in
            defer { state.dataVersion = version }
            return state.dataVersion != version
        }
        if changed {
            var changes: [TagChange] = []
            var tags: [String: Tag?] = [:]
            try db.inTransaction(.deferred) {
                changes = try TagRows.changes(db, after: state.withLock { $0.deliveredSeq })
                if !changes.isEmpty {
                    tags = try TagRows.fetch(db, names: Set(changes.map(\.name)))
                }
                return .commit
            }
            publish(external: changes, own: [], through: changes.last?.seq ?? 0, externalTags: tags, flushedWrites: 0)
        }
        trimIfDue(db)
    }

    /// Updates the mirror from rows other processes wrote, advances the feed to `seq`, notifies subscribers:
    /// those of every change get `external` then `own`, the others `external` only.
    ///
    /// A tag with a queued write keeps its mirror value: that write is newer and will overwrite
    /// the row when it commits.
    private func publish(external: [TagChange], own: [TagChange], through seq: Int64, externalTags: [String: Tag?], flushedWrites: Int) {
        let (all, externalOnly) = state.withLock { state -> ([AsyncStream<[TagChange]>.Continuation], [AsyncStream<[TagChange]>.Continuation]) in
            if !externalTags.isEmpty {
                let queued = Set(state.pending.map(\.name))
                for (name, tag) in externalTags where !queued.contains(name) {
                    state.tags[name] = tag
                }
            }
            if seq > state.deliveredSeq {
                state.rowsSinceTrim += Int(seq - state.deliveredSeq)
                state.deliveredSeq = seq
            }
            if flushedWrites > 0 {
                state.flushCount += 1
                state.flushedWriteCount += flushedWrites
                state.largestFlush = max(state.largestFlush, flushedWrites)
            }
            return (
                external.isEmpty && own.isEmpty ? [] : Array(state.subscribers.values),
                external.isEmpty ? [] : Array(state.externalSubscribers.values)
            )
        }
        let changes = external + own
        for subscriber in all {
            subscriber.yield(changes)
        }
        for subscriber in externalOnly {
            subscriber.yield(external)
        }
    }

    /// Trims the change log once a tenth of the retention has been added since the last trim.
    private func trimIfDue(_ db: Database) {
        let retention = max(configuration.changeRetention, 0)
        let due = state.withLock { $0.rowsSinceTrim >= max(retention / 10, 1) }
        guard due else { return }
        do {
            try db.execute(sql: TagRows.trimChanges, arguments: [retention])
            state.withLock { $0.rowsSinceTrim = 0 }
        } catch {
            logger.info("change log trim failed", metadata: ["tagstore.error": "\(error)"])
        }
    }

    /// Deletes all but the newest ``TagStoreConfiguration/changeRetention`` change-log rows now.
    public func trimChanges() async throws {
        try checkOpen("trimChanges")
        let retention = max(configuration.changeRetention, 0)
        try await storage("trimChanges") {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: TagRows.trimChanges, arguments: [retention])
                self.state.withLock { $0.rowsSinceTrim = 0 }
            }
        }
    }

    /// How many transactions committed tag writes (for tests and metrics).
    package var flushCount: Int { state.withLock { $0.flushCount } }

    /// How many tag writes were committed in all (for tests and metrics).
    package var flushedWriteCount: Int { state.withLock { $0.flushedWriteCount } }

    /// The most writes committed in one transaction (for tests and metrics).
    package var largestFlush: Int { state.withLock { $0.largestFlush } }
}
