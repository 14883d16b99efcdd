import Foundation
import GRDB

// Proxy mode: the durable queue of messages for unreachable upstream CSMSs, and the map from the
// bridge's transaction ids (local) to each upstream's (remote).
//
// Enqueues, acknowledgements and id mappings are durable: committed with `synchronous=FULL`
// (see `durableWrite` in TagStore+Transactions.swift) before the call returns, so a message the
// charge point was answered for is never lost, and one an upstream acknowledged is never replayed.
// Acknowledging a StartTransaction and recording the id it brought happen in one commit.
extension TagStore {
    /// The local and remote transaction ids one upstream answer ties together.
    public typealias RemoteTransaction = (upstream: String, chargePoint: String, localId: Int64, remoteId: Int64)

    /// Queues one message durably and returns it with its seq.
    public func enqueueUpstream(_ entry: NewUpstreamMessage) async throws -> UpstreamQueueEntry {
        let entries = try await enqueueUpstream([entry])
        guard let first = entries.first else {
            throw TagStoreError.storageFailed("enqueueUpstream", underlying: CancellationError())
        }
        return first
    }

    /// Queues several messages (one per upstream, say) in one durable commit, returned in the given order.
    public func enqueueUpstream(_ entries: [NewUpstreamMessage]) async throws -> [UpstreamQueueEntry] {
        try checkOpen("enqueueUpstream")
        guard !entries.isEmpty else { return [] }
        let now = Timestamp.truncated(Date())
        let createdAt = Timestamp.format(now)
        return try await durableWrite("enqueueUpstream") { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO upstream_queue (upstream, charge_point, action, payload, local_transaction_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
            return try entries.map { entry in
                try statement.execute(arguments: [
                    entry.upstream, entry.chargePoint, entry.action, entry.payload, entry.localTransactionId, createdAt,
                ])
                return UpstreamQueueEntry(
                    seq: db.lastInsertedRowID, upstream: entry.upstream, chargePoint: entry.chargePoint,
                    action: entry.action, payload: entry.payload, localTransactionId: entry.localTransactionId,
                    createdAt: now, attempts: 0, lastError: nil)
            }
        }
    }

    /// The oldest `limit` queued messages of one upstream and charge point, oldest first.
    public func pendingUpstream(upstream: String, chargePoint: String, limit: Int) async throws -> [UpstreamQueueEntry] {
        try checkOpen("pendingUpstream")
        guard limit > 0 else { return [] }
        return try await storage("pendingUpstream") {
            try await read { db in
                let statement = try db.cachedStatement(
                    sql: """
                        SELECT seq, upstream, charge_point, action, payload, local_transaction_id, created_at,
                               attempts, last_error
                        FROM upstream_queue
                        WHERE upstream = ? AND charge_point = ?
                        ORDER BY seq LIMIT ?
                        """)
                return try Row.fetchAll(statement, arguments: [upstream, chargePoint, limit]).map(Self.queueEntry(from:))
            }
        }
    }

    /// The number of messages queued for an upstream, for one charge point or (nil) for all.
    public func upstreamQueueDepth(upstream: String, chargePoint: String? = nil) async throws -> Int {
        try checkOpen("upstreamQueueDepth")
        return try await storage("upstreamQueueDepth") {
            try await read { db in
                if let chargePoint {
                    return try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM upstream_queue WHERE upstream = ? AND charge_point = ?",
                        arguments: [upstream, chargePoint]) ?? 0
                }
                return try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM upstream_queue WHERE upstream = ?", arguments: [upstream]) ?? 0
            }
        }
    }

    /// Every (upstream, charge point) with queued messages and how many, sorted, to resume replays after a restart.
    public func upstreamsWithPending() async throws -> [(upstream: String, chargePoint: String, depth: Int)] {
        try checkOpen("upstreamsWithPending")
        return try await storage("upstreamsWithPending") {
            try await read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT upstream, charge_point, count(*) FROM upstream_queue
                        GROUP BY upstream, charge_point ORDER BY upstream, charge_point
                        """
                ).map { row in
                    (upstream: try row.decode(atIndex: 0), chargePoint: try row.decode(atIndex: 1), depth: try row.decode(atIndex: 2))
                }
            }
        }
    }

    /// Removes an acknowledged message durably; an unknown seq (already removed) is ignored.
    public func acknowledgeUpstream(seq: Int64) async throws {
        try await acknowledgeUpstream(seq: seq, recordingRemote: nil)
    }

    /// Removes an acknowledged message and records the id mapping its answer brought, in one durable commit.
    /// - Parameters:
    ///   - seq: The acknowledged message; an unknown seq (already removed) is ignored.
    ///   - recordingRemote: The mapping to record as ``recordRemoteTransaction(upstream:chargePoint:localId:remoteId:)``
    ///     does, nil for none (a StopTransaction or MeterValues answer).
    public func acknowledgeUpstream(seq: Int64, recordingRemote: RemoteTransaction?) async throws {
        try checkOpen("acknowledgeUpstream")
        let createdAt = Timestamp.format(Date())
        let replaced = try await durableWrite("acknowledgeUpstream") { db -> Int in
            try db.execute(sql: "DELETE FROM upstream_queue WHERE seq = ?", arguments: [seq])
            guard let recordingRemote else { return 0 }
            return try Self.upsertMapping(recordingRemote, createdAt: createdAt, in: db)
        }
        if let recordingRemote, replaced > 0 { logReplacedMapping(recordingRemote) }
    }

    /// Counts a failed send of a queued message and keeps its error (nil clears it); an unknown seq is ignored.
    public func recordUpstreamAttempt(seq: Int64, error: String?) async throws {
        try checkOpen("recordUpstreamAttempt")
        try await storage("recordUpstreamAttempt") {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE upstream_queue SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                    arguments: [error, seq])
            }
        }
    }

    /// Records durably that an upstream knows a local transaction by `remoteId`; recording the same pair
    /// again changes nothing, and a remote id the upstream reuses on the charge point moves to the new local id.
    public func recordRemoteTransaction(upstream: String, chargePoint: String, localId: Int64, remoteId: Int64) async throws {
        try checkOpen("recordRemoteTransaction")
        let mapping: RemoteTransaction = (upstream, chargePoint, localId, remoteId)
        let createdAt = Timestamp.format(Date())
        let replaced = try await durableWrite("recordRemoteTransaction") { db in
            try Self.upsertMapping(mapping, createdAt: createdAt, in: db)
        }
        if replaced > 0 { logReplacedMapping(mapping) }
    }

    /// The id an upstream knows a local transaction by, nil if it has none yet.
    public func remoteTransactionId(upstream: String, localId: Int64) async throws -> Int64? {
        try checkOpen("remoteTransactionId")
        return try await storage("remoteTransactionId") {
            try await read { db in
                try Int64.fetchOne(
                    db, sql: "SELECT remote_id FROM upstream_transactions WHERE upstream = ? AND local_id = ?",
                    arguments: [upstream, localId])
            }
        }
    }

    /// The local transaction an upstream's id stands for on a charge point, nil if unknown.
    public func localTransactionId(upstream: String, chargePoint: String, remoteId: Int64) async throws -> Int64? {
        try checkOpen("localTransactionId")
        return try await storage("localTransactionId") {
            try await read { db in
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT local_id FROM upstream_transactions
                        WHERE upstream = ? AND charge_point = ? AND remote_id = ?
                        """,
                    arguments: [upstream, chargePoint, remoteId])
            }
        }
    }

    /// Upserts a mapping after deleting another local id's claim on the same remote id; returns how many it deleted.
    private static func upsertMapping(_ mapping: RemoteTransaction, createdAt: String, in db: Database) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM upstream_transactions
                WHERE upstream = ? AND charge_point = ? AND remote_id = ? AND local_id <> ?
                """,
            arguments: [mapping.upstream, mapping.chargePoint, mapping.remoteId, mapping.localId])
        let replaced = db.changesCount
        try db.execute(
            sql: """
                INSERT INTO upstream_transactions (upstream, charge_point, local_id, remote_id, created_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (upstream, local_id) DO UPDATE SET
                    charge_point = excluded.charge_point,
                    remote_id = excluded.remote_id,
                    created_at = excluded.created_at
                WHERE upstream_transactions.charge_point IS NOT excluded.charge_point
                    OR upstream_transactions.remote_id IS NOT excluded.remote_id
                """,
            arguments: [mapping.upstream, mapping.chargePoint, mapping.localId, mapping.remoteId, createdAt])
        return replaced
    }

    private func logReplacedMapping(_ mapping: RemoteTransaction) {
        logger.info(
            "upstream reused a transaction id; the older local transaction lost its mapping",
            metadata: [
                "ocpp.upstream": "\(mapping.upstream)", "ocpp.chargePointId": "\(mapping.chargePoint)",
                "ocpp.transactionId": "\(mapping.localId)", "ocpp.remoteTransactionId": "\(mapping.remoteId)",
            ])
    }

    private static func queueEntry(from row: Row) throws -> UpstreamQueueEntry {
        UpstreamQueueEntry(
            seq: try row.decode(atIndex: 0),
            upstream: try row.decode(atIndex: 1),
            chargePoint: try row.decode(atIndex: 2),
            action: try row.decode(atIndex: 3),
            payload: try row.decode(atIndex: 4),
            localTransactionId: try row.decode(atIndex: 5),
            createdAt: TagRows.date(try row.decode(atIndex: 6)),
            attempts: try row.decode(atIndex: 7),
            lastError: try row.decode(atIndex: 8)
        )
    }
}
