import Foundation
import GRDB

// Durable OCPP transactions.
//
// Durability: tag commits run with `synchronous=NORMAL` (WAL: atomic, survive a crash of the
// process, fsynced at checkpoints). A transaction record must survive power loss before the
// charge point gets its transactionId, so these writes switch the writer connection to
// `synchronous=FULL` for their own commit, which fsyncs the WAL (and with it every earlier tag
// commit), then switch back. The writer queue runs one closure at a time, so no tag flush ever
// runs under FULL.
extension TagStore {
    /// Stores a new transaction durably and returns it with its id; a resent identical start that
    /// is not stopped yet returns the stored one instead. With a station transaction id (2.0.1), a
    /// stored transaction of the same charge point and station id, stopped or not, is the resend.
    public func startTransaction(_ start: TransactionStart) async throws -> TransactionRecord {
        try checkOpen("startTransaction")
        let startTime = Timestamp.format(start.timestamp)
        return try await durableWrite("startTransaction") { db in
            if let stationId = start.stationTransactionId {
                if var record = try Self.fetchTransactionIfPresent(db, chargePoint: start.chargePoint, stationTransactionId: stationId) {
                    record.isResend = true
                    return record
                }
            } else if let existing = try Row.fetchOne(
                db,
                sql: Self.selectTransactions + """
                     WHERE charge_point = ? AND connector_id = ? AND start_time = ?
                       AND id_tag = ? AND meter_start = ? AND stop_time IS NULL
                       AND station_transaction_id IS NULL
                     ORDER BY id DESC LIMIT 1
                    """,
                arguments: [start.chargePoint, start.connectorId, startTime, start.idTag, start.meterStart])
            {
                var record = try Self.record(from: existing)
                record.isResend = true
                return record
            }
            try db.execute(
                sql: """
                    INSERT INTO transactions
                        (charge_point, connector_id, id_tag, meter_start, start_time, created_at, station_transaction_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    start.chargePoint, start.connectorId, start.idTag, start.meterStart, startTime,
                    Timestamp.format(Date()), start.stationTransactionId,
                ])
            return try Self.fetchTransaction(db, id: db.lastInsertedRowID)
        }
    }

    /// Records the stop of a transaction durably; nil if the id is unknown. A transaction that is
    /// already stopped (a resent StopTransaction) is returned unchanged.
    public func stopTransaction(_ stop: TransactionStop) async throws -> TransactionRecord? {
        try checkOpen("stopTransaction")
        return try await durableWrite("stopTransaction") { db -> TransactionRecord? in
            guard let record = try Self.fetchTransactionIfPresent(db, id: stop.transactionId) else { return nil }
            guard record.isActive else { return record }
            try db.execute(
                sql: """
                    UPDATE transactions
                    SET meter_stop = ?, stop_time = ?, stop_id_tag = ?, reason = ?, transaction_data = ?
                    WHERE id = ?
                    """,
                arguments: [
                    stop.meterStop, Timestamp.format(stop.timestamp), stop.idTag, stop.reason,
                    stop.transactionData, stop.transactionId,
                ])
            return try Self.fetchTransaction(db, id: stop.transactionId)
        }
    }

    /// Records the idTag of a running transaction that started without one (2.0.1: the driver was identified
    /// after plugging in); a transaction that has one keeps it. Returns the transaction, nil if unknown.
    public func identifyTransaction(id: Int64, idTag: String) async throws -> TransactionRecord? {
        try checkOpen("identifyTransaction")
        return try await durableWrite("identifyTransaction") { db -> TransactionRecord? in
            try db.execute(sql: "UPDATE transactions SET id_tag = ? WHERE id = ? AND id_tag = ''", arguments: [idTag, id])
            return try Self.fetchTransactionIfPresent(db, id: id)
        }
    }

    /// The transaction with this id, nil if unknown.
    public func transaction(id: Int64) async throws -> TransactionRecord? {
        try checkOpen("transaction")
        return try await storage("transaction") {
            try await read { db in try Self.fetchTransactionIfPresent(db, id: id) }
        }
    }

    /// The 2.0.1 transaction a charge point gave the id `stationTransactionId`, nil if unknown.
    public func transaction(chargePoint: String, stationTransactionId: String) async throws -> TransactionRecord? {
        try checkOpen("transaction")
        return try await storage("transaction") {
            try await read { db in
                try Self.fetchTransactionIfPresent(db, chargePoint: chargePoint, stationTransactionId: stationTransactionId)
            }
        }
    }

    /// The newest transactions, of one charge point or (nil) of all, newest first.
    public func transactions(chargePoint: String? = nil, limit: Int = 100) async throws -> [TransactionRecord] {
        try checkOpen("transactions")
        return try await storage("transactions") {
            try await read { db in
                let rows: [Row]
                if let chargePoint {
                    rows = try Row.fetchAll(
                        db, sql: Self.selectTransactions + " WHERE charge_point = ? ORDER BY id DESC LIMIT ?",
                        arguments: [chargePoint, limit])
                } else {
                    rows = try Row.fetchAll(
                        db, sql: Self.selectTransactions + " ORDER BY id DESC LIMIT ?", arguments: [limit])
                }
                return try rows.map(Self.record(from:))
            }
        }
    }

    /// Runs `body` in an immediate transaction whose commit is fsynced (`synchronous=FULL`).
    func durableWrite<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try await storage(operation) {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw TagStoreError.storageFailed(operation, underlying: CancellationError()) }
                return result
            }
        }
    }

    private static let selectTransactions = """
        SELECT id, charge_point, connector_id, id_tag, meter_start, start_time, meter_stop, stop_time,
               stop_id_tag, reason, transaction_data, created_at, station_transaction_id
        FROM transactions
        """

    private static func fetchTransactionIfPresent(_ db: Database, id: Int64) throws -> TransactionRecord? {
        try Row.fetchOne(db, sql: selectTransactions + " WHERE id = ?", arguments: [id]).map(record(from:))
    }

    private static func fetchTransactionIfPresent(
        _ db: Database, chargePoint: String, stationTransactionId: String
    ) throws -> TransactionRecord? {
        try Row.fetchOne(
            db, sql: selectTransactions + " WHERE charge_point = ? AND station_transaction_id = ?",
            arguments: [chargePoint, stationTransactionId]
        ).map(record(from:))
    }

    private static func fetchTransaction(_ db: Database, id: Int64) throws -> TransactionRecord {
        guard let record = try fetchTransactionIfPresent(db, id: id) else {
            throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "transaction \(id) vanished")
        }
        return record
    }

    private static func record(from row: Row) throws -> TransactionRecord {
        let stopTime: String? = try row.decode(atIndex: 7)
        return TransactionRecord(
            id: try row.decode(atIndex: 0),
            chargePoint: try row.decode(atIndex: 1),
            connectorId: try row.decode(atIndex: 2),
            idTag: try row.decode(atIndex: 3),
            meterStart: try row.decode(atIndex: 4),
            startTime: TagRows.date(try row.decode(atIndex: 5)),
            meterStop: try row.decode(atIndex: 6),
            stopTime: stopTime.map(TagRows.date),
            stopIdTag: try row.decode(atIndex: 8),
            reason: try row.decode(atIndex: 9),
            transactionData: try row.decode(atIndex: 10),
            createdAt: TagRows.date(try row.decode(atIndex: 11)),
            stationTransactionId: try row.decode(atIndex: 12)
        )
    }
}
