import Foundation
import Testing

@testable import TagStore

@Suite struct TransactionTests {
    static let startTime = Date(timeIntervalSince1970: 1_738_326_896.789)

    static func start(_ chargePoint: String = "CP1", connector: Int = 1, idTag: String = "TAG1") -> TransactionStart {
        TransactionStart(chargePoint: chargePoint, connectorId: connector, idTag: idTag, meterStart: 1000, timestamp: startTime)
    }

    @Test func idsIncreaseAndAreNeverReusedAcrossReopen() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open()
        let first = try await store.startTransaction(Self.start(connector: 1))
        let second = try await store.startTransaction(Self.start(connector: 2))
        #expect(second.id > first.id)
        #expect(first.isActive && first.chargePoint == "CP1" && first.meterStart == 1000)
        #expect(first.startTime == Self.startTime)
        await store.close()

        try database.sqlite("DELETE FROM transactions")
        let reopened = try database.open()
        let third = try await reopened.startTransaction(Self.start(connector: 1))
        #expect(third.id > second.id)
        #expect(try await reopened.transaction(id: first.id) == nil)
        #expect(try await reopened.transaction(id: third.id) == third)
        await reopened.close()
    }

    @Test func resentStartReturnsTheSameTransaction() async throws {
        try await withStore { store, _ in
            let first = try await store.startTransaction(Self.start())
            var resent = try await store.startTransaction(Self.start())
            #expect(!first.isResend)
            #expect(resent.isResend)
            resent.isResend = false
            #expect(resent == first)
            let other = try await store.startTransaction(Self.start(idTag: "TAG2"))
            #expect(other.id != first.id)

            let stopped = try await store.stopTransaction(
                TransactionStop(transactionId: first.id, meterStop: 1500, timestamp: Self.startTime.addingTimeInterval(60)))
            #expect(stopped?.isActive == false)
            // Once stopped, an identical start is a new transaction.
            let again = try await store.startTransaction(Self.start())
            #expect(again.id > other.id)
        }
    }

    @Test func stopRecordsTheStopAndIsIdempotent() async throws {
        try await withStore { store, database in
            let started = try await store.startTransaction(Self.start())
            let stopTime = Self.startTime.addingTimeInterval(3600)
            let stop = TransactionStop(
                transactionId: started.id, idTag: "TAG1", meterStop: 12_345, timestamp: stopTime,
                reason: "EVDisconnected", transactionData: #"[{"timestamp":"2025-01-31T12:00:00Z","sampledValue":[]}]"#)
            let stopped = try #require(try await store.stopTransaction(stop))
            #expect(stopped.meterStop == 12_345)
            #expect(stopped.stopTime == stopTime)
            #expect(stopped.reason == "EVDisconnected")
            #expect(stopped.stopIdTag == "TAG1")
            var resent = stop
            resent.meterStop = 99_999
            #expect(try await store.stopTransaction(resent) == stopped)
            #expect(try await store.stopTransaction(TransactionStop(transactionId: 9_999, meterStop: 0, timestamp: stopTime)) == nil)
            #expect(try database.sqlite("SELECT json_valid(transaction_data) FROM transactions") == "1")
        }
    }

    @Test func transactionsAreListedPerChargePointNewestFirst() async throws {
        try await withStore { store, _ in
            let a = try await store.startTransaction(Self.start("CP1", connector: 1))
            let b = try await store.startTransaction(Self.start("CP2", connector: 1))
            let c = try await store.startTransaction(Self.start("CP1", connector: 2))
            #expect(try await store.transactions(chargePoint: "CP1").map(\.id) == [c.id, a.id])
            #expect(try await store.transactions(limit: 2).map(\.id) == [c.id, b.id])
        }
    }

    @Test func invalidTransactionDataIsRejected() async throws {
        try await withStore { store, _ in
            let started = try await store.startTransaction(Self.start())
            await #expect(throws: TagStoreError.storageFailed) {
                try await store.stopTransaction(
                    TransactionStop(transactionId: started.id, meterStop: 1, timestamp: Date(), transactionData: "{not json"))
            }
            #expect(try await store.transaction(id: started.id)?.isActive == true)
        }
    }

    @Test func stationTransactionIdsFindTheirTransaction() async throws {
        try await withStore { store, database in
            var start = Self.start()
            start.stationTransactionId = "3b2f-a1"
            let first = try await store.startTransaction(start)
            #expect(first.stationTransactionId == "3b2f-a1" && !first.isResend)
            // The same station id of another charge point is another transaction.
            var elsewhere = start
            elsewhere.chargePoint = "CP2"
            #expect(try await store.startTransaction(elsewhere).id != first.id)
            // A resent Started event with other details is still the same transaction, even once stopped.
            _ = try await store.stopTransaction(TransactionStop(transactionId: first.id, meterStop: 2000, timestamp: Self.startTime))
            var resent = start
            resent.meterStart = 7
            let again = try await store.startTransaction(resent)
            #expect(again.id == first.id && again.isResend && again.meterStart == 1000)
            #expect(try await store.transaction(chargePoint: "CP1", stationTransactionId: "3b2f-a1")?.id == first.id)
            #expect(try await store.transaction(chargePoint: "CP1", stationTransactionId: "other") == nil)
            // A 1.6 start with the same details is not mistaken for the 2.0.1 one.
            #expect(try await store.startTransaction(Self.start()).stationTransactionId == nil)
            #expect(try database.sqlite("SELECT count(*) FROM transactions WHERE station_transaction_id IS NULL") == "1")
        }
    }

    @Test func aTransactionStartedWithoutAnIdTagIsIdentifiedOnce() async throws {
        try await withStore { store, _ in
            let anonymous = try await store.startTransaction(Self.start(idTag: ""))
            #expect(try await store.identifyTransaction(id: anonymous.id, idTag: "LATE1")?.idTag == "LATE1")
            #expect(try await store.identifyTransaction(id: anonymous.id, idTag: "OTHER")?.idTag == "LATE1")
            let named = try await store.startTransaction(Self.start(connector: 2, idTag: "FIRST"))
            #expect(try await store.identifyTransaction(id: named.id, idTag: "OTHER")?.idTag == "FIRST")
            #expect(try await store.identifyTransaction(id: 9_999, idTag: "X") == nil)
        }
    }
}
