import Foundation
import GRDB
import Testing

@testable import TagStore

@Suite struct UpstreamQueueTests {
    static func message(
        _ upstream: String = "primary", _ chargePoint: String = "CP1", action: String = "MeterValues",
        n: Int = 0, localId: Int64? = 1
    ) -> NewUpstreamMessage {
        NewUpstreamMessage(
            upstream: upstream, chargePoint: chargePoint, action: action,
            payload: #"{"connectorId":1,"transactionId":1,"n":\#(n)}"#, localTransactionId: localId)
    }

    /// Copies the database file with its -wal and -shm files, as a SIGKILL would leave them, while the store is open.
    static func crashCopy(of database: TestDatabase) throws -> TestDatabase {
        let copy = try TestDatabase()
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: database.path + suffix) {
            try FileManager.default.copyItem(atPath: database.path + suffix, toPath: copy.path + suffix)
        }
        return copy
    }

    @Test func pendingIsFIFOPerUpstreamAndChargePoint() async throws {
        try await withStore { store, _ in
            for n in 0..<4 {
                _ = try await store.enqueueUpstream(Self.message("primary", "CP1", n: n))
                _ = try await store.enqueueUpstream(Self.message("primary", "CP2", n: 10 + n))
                _ = try await store.enqueueUpstream(Self.message("backup", "CP1", n: 20 + n))
            }
            let cp1 = try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 10)
            #expect(cp1.map(\.payload) == (0..<4).map { Self.message("primary", "CP1", n: $0).payload })
            #expect(cp1.map(\.seq) == cp1.map(\.seq).sorted())
            #expect(cp1.allSatisfy { $0.upstream == "primary" && $0.chargePoint == "CP1" && $0.attempts == 0 })
            let backup = try await store.pendingUpstream(upstream: "backup", chargePoint: "CP1", limit: 2)
            #expect(backup.map(\.payload) == [20, 21].map { Self.message("backup", "CP1", n: $0).payload })
            #expect(try await store.pendingUpstream(upstream: "backup", chargePoint: "CP2", limit: 10).isEmpty)
            #expect(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 0).isEmpty)
        }
    }

    @Test func enqueueReturnsTheStoredEntry() async throws {
        try await withStore { store, _ in
            let queued = try await store.enqueueUpstream(
                Self.message(action: "StartTransaction", localId: 7))
            let stored = try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 1)
            #expect(stored == [queued])
            #expect(queued.action == "StartTransaction" && queued.localTransactionId == 7 && queued.lastError == nil)
            let withoutTransaction = try await store.enqueueUpstream(Self.message(localId: nil))
            #expect(withoutTransaction.seq > queued.seq)
            #expect(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 2).last?.localTransactionId == nil)
        }
    }

    @Test func batchEnqueueCopiesToSeveralUpstreamsInOneCommit() async throws {
        try await withStore { store, _ in
            let entries = try await store.enqueueUpstream([Self.message("primary", n: 1), Self.message("backup", n: 1)])
            #expect(entries.map(\.upstream) == ["primary", "backup"])
            #expect(entries[1].seq == entries[0].seq + 1)
            #expect(try await store.enqueueUpstream([]).isEmpty)
            // A message the schema rejects (payload not JSON) rolls back the whole batch.
            let invalid = NewUpstreamMessage(upstream: "backup", chargePoint: "CP1", action: "MeterValues", payload: "{oops")
            await #expect(throws: TagStoreError.storageFailed) {
                try await store.enqueueUpstream([Self.message("primary", n: 2), invalid])
            }
            #expect(try await store.upstreamQueueDepth(upstream: "primary") == 1)
            #expect(try await store.upstreamQueueDepth(upstream: "backup") == 1)
        }
    }

    @Test func depthAndPendingUpstreamsCountPerUpstreamAndChargePoint() async throws {
        try await withStore { store, _ in
            #expect(try await store.upstreamQueueDepth(upstream: "primary") == 0)
            #expect(try await store.upstreamsWithPending().isEmpty)
            _ = try await store.enqueueUpstream(
                [Self.message("primary", "CP1"), Self.message("primary", "CP1"), Self.message("primary", "CP2"),
                 Self.message("backup", "CP2")])
            #expect(try await store.upstreamQueueDepth(upstream: "primary") == 3)
            #expect(try await store.upstreamQueueDepth(upstream: "primary", chargePoint: "CP1") == 2)
            #expect(try await store.upstreamQueueDepth(upstream: "backup", chargePoint: "CP1") == 0)
            let pending = try await store.upstreamsWithPending()
            #expect(pending.map { "\($0.upstream)/\($0.chargePoint)=\($0.depth)" } == ["backup/CP2=1", "primary/CP1=2", "primary/CP2=1"])
        }
    }

    @Test func acknowledgeRemovesOnlyThatMessage() async throws {
        try await withStore { store, _ in
            let first = try await store.enqueueUpstream(Self.message(n: 0))
            let second = try await store.enqueueUpstream(Self.message(n: 1))
            try await store.acknowledgeUpstream(seq: first.seq)
            #expect(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 10) == [second])
            try await store.acknowledgeUpstream(seq: first.seq)  // acknowledged twice: no-op
            try await store.acknowledgeUpstream(seq: 9_999)
            #expect(try await store.upstreamQueueDepth(upstream: "primary") == 1)
            // seq is never reused, even once the queue is empty.
            try await store.acknowledgeUpstream(seq: second.seq)
            #expect(try await store.enqueueUpstream(Self.message(n: 2)).seq > second.seq)
        }
    }

    @Test func attemptsAndLastErrorAreRecorded() async throws {
        try await withStore { store, _ in
            let entry = try await store.enqueueUpstream(Self.message())
            try await store.recordUpstreamAttempt(seq: entry.seq, error: "timeout")
            try await store.recordUpstreamAttempt(seq: entry.seq, error: "InternalError: busy")
            var stored = try #require(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 1).first)
            #expect(stored.attempts == 2 && stored.lastError == "InternalError: busy")
            try await store.recordUpstreamAttempt(seq: entry.seq, error: nil)
            stored = try #require(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 1).first)
            #expect(stored.attempts == 3 && stored.lastError == nil)
            try await store.recordUpstreamAttempt(seq: 9_999, error: "gone")
        }
    }

    @Test func mappingsWorkBothWaysAndPerUpstream() async throws {
        try await withStore { store, database in
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 1, remoteId: 500)
            try await store.recordRemoteTransaction(upstream: "backup", chargePoint: "CP1", localId: 1, remoteId: 7)
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP2", localId: 2, remoteId: 500)
            #expect(try await store.remoteTransactionId(upstream: "primary", localId: 1) == 500)
            #expect(try await store.remoteTransactionId(upstream: "backup", localId: 1) == 7)
            #expect(try await store.remoteTransactionId(upstream: "backup", localId: 2) == nil)
            #expect(try await store.localTransactionId(upstream: "primary", chargePoint: "CP1", remoteId: 500) == 1)
            #expect(try await store.localTransactionId(upstream: "primary", chargePoint: "CP2", remoteId: 500) == 2)
            #expect(try await store.localTransactionId(upstream: "backup", chargePoint: "CP1", remoteId: 7) == 1)
            #expect(try await store.localTransactionId(upstream: "backup", chargePoint: "CP1", remoteId: 500) == nil)

            // Recording the same pair again changes nothing, not even created_at.
            let before = try database.sqlite("SELECT created_at FROM upstream_transactions WHERE upstream = 'primary' AND local_id = 1")
            try await Task.sleep(for: .milliseconds(5))
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 1, remoteId: 500)
            #expect(try database.sqlite("SELECT created_at FROM upstream_transactions WHERE upstream = 'primary' AND local_id = 1") == before)
            #expect(try database.sqlite("SELECT count(*) FROM upstream_transactions") == "3")
        }
    }

    @Test func aRemoteIdReusedOnTheChargePointMovesToTheNewLocalId() async throws {
        try await withStore { store, _ in
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 1, remoteId: 500)
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 2, remoteId: 500)
            #expect(try await store.localTransactionId(upstream: "primary", chargePoint: "CP1", remoteId: 500) == 2)
            #expect(try await store.remoteTransactionId(upstream: "primary", localId: 1) == nil)
            // A new answer for the same local id replaces the old remote id.
            try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 2, remoteId: 501)
            #expect(try await store.remoteTransactionId(upstream: "primary", localId: 2) == 501)
            #expect(try await store.localTransactionId(upstream: "primary", chargePoint: "CP1", remoteId: 500) == nil)
        }
    }

    @Test func acknowledgeWithMappingIsOneCommit() async throws {
        try await withStore { store, database in
            let start = try await store.enqueueUpstream(Self.message(action: "StartTransaction", localId: 3))
            try await store.acknowledgeUpstream(
                seq: start.seq, recordingRemote: (upstream: "primary", chargePoint: "CP1", localId: 3, remoteId: 900))
            #expect(try await store.upstreamQueueDepth(upstream: "primary") == 0)
            #expect(try await store.remoteTransactionId(upstream: "primary", localId: 3) == 900)

            // When recording the mapping fails, the message stays queued.
            let next = try await store.enqueueUpstream(Self.message(action: "StartTransaction", localId: 4))
            try database.sqlite(
                "CREATE TRIGGER refuse BEFORE INSERT ON upstream_transactions BEGIN SELECT RAISE(ABORT, 'refused'); END")
            await #expect(throws: TagStoreError.storageFailed) {
                try await store.acknowledgeUpstream(
                    seq: next.seq, recordingRemote: (upstream: "primary", chargePoint: "CP1", localId: 4, remoteId: 901))
            }
            #expect(try await store.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 10) == [next])
            #expect(try await store.remoteTransactionId(upstream: "primary", localId: 4) == nil)
        }
    }

    @Test func queueAndMappingsSurviveCloseAndReopen() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open()
        let first = try await store.enqueueUpstream(Self.message(n: 0))
        let second = try await store.enqueueUpstream(Self.message(n: 1))
        try await store.recordUpstreamAttempt(seq: first.seq, error: "offline")
        try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 1, remoteId: 42)
        await store.close()
        await #expect(throws: TagStoreError.closed) { try await store.upstreamQueueDepth(upstream: "primary") }

        let reopened = try database.open()
        let pending = try await reopened.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 10)
        #expect(pending.map(\.seq) == [first.seq, second.seq])
        #expect(pending.first?.attempts == 1 && pending.first?.lastError == "offline")
        #expect(pending.first?.createdAt == first.createdAt)
        #expect(try await reopened.remoteTransactionId(upstream: "primary", localId: 1) == 42)
        #expect(try await reopened.upstreamsWithPending().map { $0.depth } == [2])
        await reopened.close()
    }

    @Test func durableCallsAreInTheFilesWhenTheyReturn() async throws {
        try await withStore { store, database in
            let start = try await store.enqueueUpstream(Self.message(action: "StartTransaction", localId: 5))
            let afterEnqueue = try Self.crashCopy(of: database)
            defer { afterEnqueue.remove() }
            try await store.acknowledgeUpstream(
                seq: start.seq, recordingRemote: (upstream: "primary", chargePoint: "CP1", localId: 5, remoteId: 77))
            let afterAck = try Self.crashCopy(of: database)
            defer { afterAck.remove() }
            try await store.recordRemoteTransaction(upstream: "backup", chargePoint: "CP1", localId: 5, remoteId: 3)
            let afterRecord = try Self.crashCopy(of: database)
            defer { afterRecord.remove() }

            let enqueued = try afterEnqueue.open()
            #expect(try await enqueued.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 10) == [start])
            #expect(try await enqueued.remoteTransactionId(upstream: "primary", localId: 5) == nil)
            await enqueued.close()

            let acknowledged = try afterAck.open()
            #expect(try await acknowledged.upstreamQueueDepth(upstream: "primary") == 0)
            #expect(try await acknowledged.remoteTransactionId(upstream: "primary", localId: 5) == 77)
            await acknowledged.close()

            let recorded = try afterRecord.open()
            #expect(try await recorded.localTransactionId(upstream: "backup", chargePoint: "CP1", remoteId: 3) == 5)
            await recorded.close()
        }
    }

    @Test func readsUseTheIndexes() async throws {
        try await withStore { store, database in
            _ = try await store.enqueueUpstream(Self.message())
            let pending = try database.sqlite(
                "EXPLAIN QUERY PLAN SELECT * FROM upstream_queue WHERE upstream = 'a' AND charge_point = 'b' ORDER BY seq LIMIT 5")
            #expect(pending.contains("upstream_queue_by_upstream") && !pending.contains("TEMP B-TREE"))
            let byRemote = try database.sqlite(
                "EXPLAIN QUERY PLAN SELECT local_id FROM upstream_transactions WHERE upstream = 'a' AND charge_point = 'b' AND remote_id = 1")
            #expect(byRemote.contains("upstream_transactions_by_remote_id"))
            let byLocal = try database.sqlite(
                "EXPLAIN QUERY PLAN SELECT remote_id FROM upstream_transactions WHERE upstream = 'a' AND local_id = 1")
            #expect(byLocal.contains("PRIMARY KEY"))
        }
    }

    /// Creates a database as a bridge that knew only migration v1 left it.
    static func createVersion1Database(at path: String) throws {
        let v1 = try #require(try SchemaMigrations.parse(Schema.sql).first)
        #expect(v1.name == "v1")
        let pool = try DatabasePool(path: path)
        try SchemaMigrations.migrator(schema: "-- migration: v1\n" + v1.sql).migrate(pool)
        try pool.close()
    }

    @Test func aFailingMigrationIsNamedAndEarlierOnesStay() throws {
        let database = try TestDatabase()
        defer { database.remove() }
        try Self.createVersion1Database(at: database.path)
        try database.sqlite("CREATE TABLE upstream_queue (x)")
        let error = #expect(throws: TagStoreError.migrationFailed) { try database.open() }
        #expect(error?.reason == "migration v2 failed")
        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1")
    }

    @Test func migrationV2AppliesToAVersion1Database() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        try Self.createVersion1Database(at: database.path)
        try database.sqlite("INSERT INTO tags (name, value) VALUES ('CP1.Online', 1)")
        try database.sqlite(
            "INSERT INTO transactions (charge_point, connector_id, id_tag, meter_start, start_time) VALUES ('CP1', 1, 'T', 0, '2025-01-31T12:00:00.000Z')")
        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1")
        #expect(try database.sqlite("SELECT count(*) FROM sqlite_master WHERE name LIKE 'upstream%'") == "0")

        let store = try database.open()
        #expect(store.value("CP1.Online") == .int(1))
        #expect(try await store.transaction(id: 1)?.chargePoint == "CP1")
        let entry = try await store.enqueueUpstream(Self.message(localId: 1))
        try await store.recordRemoteTransaction(upstream: "primary", chargePoint: "CP1", localId: 1, remoteId: 10)
        await store.close()
        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")

        let reopened = try database.open()
        #expect(try await reopened.pendingUpstream(upstream: "primary", chargePoint: "CP1", limit: 1) == [entry])
        #expect(try await reopened.remoteTransactionId(upstream: "primary", localId: 1) == 10)
        await reopened.close()
        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")
        #expect(
            try database.sqlite("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE name LIKE 'upstream%' ORDER BY name)")
                == "upstream_queue,upstream_queue_by_upstream,upstream_transactions,upstream_transactions_by_remote_id")
    }
}
