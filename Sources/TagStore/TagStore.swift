import Foundation
import GRDB
import Logging
import Synchronization

/// The SQLite tag database: current tags mirrored in memory, batched writes, a change feed, and
/// durable OCPP transactions.
///
/// Reads are served from the in-memory mirror. ``write(_:)-([TagWrite])`` updates the mirror at
/// once and queues the write; a background task commits the queue in one SQLite transaction every
/// ``TagStoreConfiguration/flushInterval`` (WAL, `synchronous=NORMAL`: no fsync per write). Another
/// background task polls the change log for rows written by other processes and folds them into
/// the mirror and the change feed. Call ``close()`` before dropping the store, or queued writes
/// are lost.
public final class TagStore: Sendable {
    /// The database file.
    public let path: String
    let configuration: TagStoreConfiguration
    let logger: Logger
    let pool: DatabasePool
    let state: Mutex<State>
    /// `state.pending.count`, stored under the lock after each change, so that `hasRoom` takes no lock: the
    /// bridge asks it for every CALL it answers at once, while the writer thread takes the lock for its batches.
    let pendingCount = Atomic<Int>(0)
    /// Wakes the flush task after a write.
    let flushSignal: AsyncStream<Void>.Continuation

    /// Everything shared between callers and background tasks, under one lock.
    struct State {
        /// The current tags, including writes not yet committed.
        var tags: [String: Tag]
        /// Writes not yet committed, in call order.
        var pending: [TagWrite] = []
        /// The highest change-log seq delivered to subscribers.
        var deliveredSeq: Int64
        /// `PRAGMA data_version` of the writer connection at the last poll.
        var dataVersion: Int64?
        /// Subscribers of every change.
        var subscribers: [Int: AsyncStream<[TagChange]>.Continuation] = [:]
        /// Writers waiting for the queue to drop below `maxBacklog`.
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        /// Subscribers of the changes other processes make.
        var externalSubscribers: [Int: AsyncStream<[TagChange]>.Continuation] = [:]
        var nextSubscriberID = 0
        /// Change-log rows delivered since the last trim (starts high so the first chance trims).
        var rowsSinceTrim = Int.max / 2
        var consecutiveFlushFailures = 0
        var flushCount = 0
        var flushedWriteCount = 0
        var largestFlush = 0
        var closed = false
        var flushTask: Task<Void, Never>?
        var pollTask: Task<Void, Never>?
    }

    /// Opens (creating if needed) the database file at `path` and applies the schema's migrations.
    /// - Parameters:
    ///   - path: The SQLite file; its folder must exist.
    ///   - configuration: Flush and poll intervals, change-log retention, busy timeout.
    ///   - logger: Where the store logs.
    public init(path: String, configuration: TagStoreConfiguration = .init(), logger: Logger) throws {
        var config = Configuration()
        config.label = "TagStore"
        config.busyMode = .timeout(configuration.busyTimeout.seconds)
        // A DatabasePool is always in WAL mode, and GRDB sets `synchronous=NORMAL` on WAL
        // connections: commits are atomic and survive a crash of the bridge, and are fsynced at
        // checkpoints. Transaction records raise it to FULL for their own commit (see
        // TagStore+Transactions.swift).
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw TagStoreError.cannotOpen(path: path, underlying: error)
        }
        try SchemaMigrations.apply(to: pool)
        let tags: [String: Tag]
        let lastSeq: Int64
        do {
            (tags, lastSeq) = try pool.read { db in (try TagRows.fetchAll(db), try TagRows.lastSeq(db)) }
        } catch {
            throw TagStoreError.storageFailed("open", underlying: error)
        }
        let (signal, signalContinuation) = AsyncStream.makeStream(
            of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.path = path
        self.configuration = configuration
        self.logger = logger
        self.pool = pool
        self.flushSignal = signalContinuation
        self.state = Mutex(State(tags: tags, deliveredSeq: lastSeq))

        let flushInterval = configuration.flushInterval
        let flushTask = Task { [weak self] in
            for await _ in signal {
                // Waiting gathers a batch; a backlog of a full batch or more is committed at once, so that the
                // flush keeps up with writes as long as SQLite can (docs/performance.md).
                if self?.hasFullBatch != true {
                    try? await Task.sleep(for: flushInterval)
                }
                guard let self else { return }
                await self.backgroundFlush()
            }
        }
        let pollInterval = configuration.externalPollInterval
        let pollTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                guard !Task.isCancelled, let self else { return }
                await self.backgroundPoll()
            }
        }
        state.withLock { state in
            state.flushTask = flushTask
            state.pollTask = pollTask
        }
        logger.debug(
            "tag store open",
            metadata: ["tagstore.path": "\(path)", "tagstore.tags": "\(tags.count)", "tagstore.lastSeq": "\(lastSeq)"])
    }

    /// Opens a store on a new file in a new temporary folder (for tests); the caller removes the folder.
    public static func temporary(
        configuration: TagStoreConfiguration = .init(), logger: Logger
    ) throws -> TagStore {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("tagstore-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TagStoreError.cannotOpen(path: folder.path, underlying: error)
        }
        return try TagStore(
            path: folder.appendingPathComponent("tags.sqlite").path, configuration: configuration, logger: logger)
    }

    deinit {
        flushSignal.finish()
        let subscribers = state.withLock { state in
            state.flushTask?.cancel()
            state.pollTask?.cancel()
            return Array(state.subscribers.values) + Array(state.externalSubscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    // MARK: Reads (from the in-memory mirror)

    /// The current state of a tag, nil if it does not exist.
    public func tag(_ name: String) -> Tag? {
        state.withLock { $0.tags[name] }
    }

    /// The current value of a tag, nil if it does not exist.
    public func value(_ name: String) -> TagValue? {
        tag(name)?.value
    }

    /// The tags whose names start with `prefix` ("" for all), sorted by name.
    public func tags(prefix: String) -> [Tag] {
        let tags = state.withLock { state in
            prefix.isEmpty ? Array(state.tags.values) : state.tags.values.filter { $0.name.hasPrefix(prefix) }
        }
        return tags.sorted { $0.name < $1.name }
    }

    /// Whether a full batch (``TagStoreConfiguration/maxBatch`` writes) or more is queued.
    var hasFullBatch: Bool {
        pendingCount.load(ordering: .relaxed) >= configuration.maxBatch
    }

    /// The highest change-log seq delivered so far (0 if the log was always empty).
    public var lastSeq: Int64 {
        state.withLock { $0.deliveredSeq }
    }

    // MARK: Writes

    /// Updates the mirror at once and queues the writes for the next batched commit.
    public func write(_ writes: [TagWrite]) {
        guard !writes.isEmpty else { return }
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            for var write in writes {
                write.value = write.value.normalized
                write.timestamp = Timestamp.truncated(write.timestamp)
                // One lookup of the name: the known tag is replaced where it sits.
                if let known = state.tags.index(forKey: write.name) {
                    state.tags.values[known] = Tag(
                        name: write.name, value: write.value, quality: write.quality, updatedAt: write.timestamp,
                        unit: write.unit ?? state.tags.values[known].unit, access: write.access)
                } else {
                    state.tags[write.name] = Tag(
                        name: write.name, value: write.value, quality: write.quality, updatedAt: write.timestamp,
                        unit: write.unit, access: write.access)
                }
                state.pending.append(write)
            }
            pendingCount.store(state.pending.count, ordering: .relaxed)
            return true
        }
        if accepted {
            flushSignal.yield()
        } else {
            logger.info("tag write after close dropped", metadata: ["tagstore.writes": "\(writes.count)"])
        }
    }

    /// Whether ``waitForRoom()`` would return at once: fewer than ``TagStoreConfiguration/maxBacklog`` writes
    /// are queued, or the store is closed.
    public var hasRoom: Bool {
        pendingCount.load(ordering: .relaxed) < configuration.maxBacklog
    }

    /// Returns at once while fewer than ``TagStoreConfiguration/maxBacklog`` writes are queued; otherwise waits
    /// until commits bring the queue below it (or the store closes). Writers that can wait (the bridge before
    /// answering a charge point) call it, so that a flood is slowed to what SQLite commits.
    public func waitForRoom() async {
        let limit = configuration.maxBacklog
        if state.withLock({ $0.pending.count < limit || $0.closed }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let full = state.withLock { state -> Bool in
                guard state.pending.count >= limit, !state.closed else { return false }
                state.roomWaiters.append(continuation)
                return true
            }
            if !full { continuation.resume() }
        }
    }

    /// Resumes the writers waiting for room, if there is room now (or the store closed).
    func releaseWaitersIfRoom() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.roomWaiters.isEmpty, state.pending.count < configuration.maxBacklog || state.closed else { return [] }
            defer { state.roomWaiters = [] }
            return state.roomWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Updates the mirror at once and queues the write for the next batched commit.
    public func write(_ write: TagWrite) {
        self.write([write])
    }

    /// Flushes queued writes, stops the background tasks, ends every subscription and closes the file.
    public func close() async {
        let tasks = state.withLock { state -> (flushTask: Task<Void, Never>?, pollTask: Task<Void, Never>?)? in
            guard !state.closed else { return nil }
            state.closed = true
            defer {
                state.flushTask = nil
                state.pollTask = nil
            }
            return (state.flushTask, state.pollTask)
        }
        guard let tasks else { return }
        releaseWaitersIfRoom()
        // The flush task ends after its current round once the signal finishes; cancelling it
        // would abort a commit in progress. The poll task only reads, so it is cancelled.
        flushSignal.finish()
        tasks.pollTask?.cancel()
        await tasks.flushTask?.value
        await tasks.pollTask?.value
        do {
            try await commitQueued()
        } catch {
            logger.info("final tag flush failed", metadata: ["tagstore.error": "\(error)"])
        }
        let subscribers = state.withLock { state in
            defer {
                state.subscribers = [:]
                state.externalSubscribers = [:]
            }
            return Array(state.subscribers.values) + Array(state.externalSubscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
        do {
            try pool.close()
        } catch {
            logger.info("closing the tag database failed", metadata: ["tagstore.error": "\(error)"])
        }
    }

    /// Throws ``TagStoreError/closed`` once ``close()`` has begun.
    func checkOpen(_ operation: String) throws {
        if state.withLock({ $0.closed }) { throw TagStoreError.closed(operation) }
    }

    /// Reads from a pool reader, and gives the reader back before the awaiting task resumes.
    ///
    /// GRDB's async `read` gives its reader back only once the awaiting task runs again. Every task of the
    /// bridge runs on the event loops (NIO is the global executor), and the WebSocket upgrade reads
    /// registrations synchronously on an event loop: with every reader held by a task waiting for that loop,
    /// the loop waited for a reader forever (seen with 20 charge points in proxy mode). `asyncRead` gives the
    /// reader back on GRDB's own queue, whatever the awaiting task's executor is doing.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.asyncRead { database in
                continuation.resume(with: Result { try body(database.get()) })
            }
        }
    }

    /// Runs a database operation, wrapping GRDB's errors in ``TagStoreError``.
    func storage<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as TagStoreError {
            throw error
        } catch {
            throw TagStoreError.storageFailed(operation, underlying: error)
        }
    }
}
