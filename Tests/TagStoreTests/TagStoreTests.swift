import Foundation
import Testing

@testable import TagStore

@Suite struct TagStoreTests {
    @Test func writesAreReadBackByNameAndPrefix() async throws {
        try await withStore { store, _ in
            store.write([
                TagWrite(name: "CP1.Connector1.Status", value: "Charging"),
                TagWrite(name: "CP1.Connector1.Meter.Energy.Active.Import.Register", value: 1234.5, unit: "Wh"),
                TagWrite(name: "CP1.Online", value: true),
                TagWrite(name: "CP2.Online", value: false, quality: .bad),
                TagWrite(name: "CP1.Authorize.Request", value: 7, access: .readWrite),
            ])
            #expect(store.value("CP1.Online") == .bool(true))
            #expect(store.tag("CP2.Online")?.quality == .bad)
            #expect(store.tag("CP1.Connector1.Meter.Energy.Active.Import.Register")?.unit == "Wh")
            #expect(store.tag("CP1.Authorize.Request")?.access == .readWrite)
            #expect(store.tag("nope") == nil)
            #expect(store.tags(prefix: "CP1.").map(\.name) == [
                "CP1.Authorize.Request", "CP1.Connector1.Meter.Energy.Active.Import.Register",
                "CP1.Connector1.Status", "CP1.Online",
            ])
            #expect(store.tags(prefix: "").count == 5)

            try await store.flush()
            #expect(try TestDatabase.sqlite3(store.path, "SELECT count(*) FROM tags") == "5")
            let stored = try TestDatabase.sqlite3(
                store.path, "SELECT value, type, unit, access FROM tags WHERE name = 'CP1.Online'")
            #expect(stored == "1|bool||ro")
        }
    }

    @Test func reopenedStoreHasTheSameTags() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open()
        store.write([
            TagWrite(name: "A", value: .null), TagWrite(name: "B", value: 2.5, unit: "kW"),
            TagWrite(name: "C", value: "x", quality: .uncertain, access: .readWrite), TagWrite(name: "D", value: -3),
        ])
        let before = store.tags(prefix: "")
        await store.close()
        let reopened = try database.open()
        #expect(reopened.tags(prefix: "") == before)
        await reopened.close()
    }

    @Test func unitIsKeptWhenAWriteOmitsIt() async throws {
        try await withStore { store, _ in
            store.write(TagWrite(name: "M", value: 1.0, unit: "Wh"))
            try await store.flush()
            store.write(TagWrite(name: "M", value: 2.0))
            try await store.flush()
            #expect(store.tag("M")?.unit == "Wh")
            #expect(try TestDatabase.sqlite3(store.path, "SELECT unit FROM tags WHERE name = 'M'") == "Wh")
        }
    }

    @Test func changeLogKeepsOrderAndSeq() async throws {
        try await withStore { store, _ in
            let start = store.lastSeq
            store.write(TagWrite(name: "A", value: 1))
            store.write(TagWrite(name: "B", value: 2))
            store.write(TagWrite(name: "A", value: 3))
            try await store.flush()
            let changes = try await store.changes(since: start)
            #expect(changes.map(\.name) == ["A", "B", "A"])
            #expect(changes.map(\.value) == [.int(1), .int(2), .int(3)])
            #expect(changes.map(\.seq) == [start + 1, start + 2, start + 3])
            #expect(store.lastSeq == start + 3)
            #expect(try await store.changes(since: start + 1, limit: 1).map(\.seq) == [start + 2])
        }
    }

    @Test func sameValueWriteOnlyRefreshesUpdatedAt() async throws {
        try await withStore { store, _ in
            let first = Date(timeIntervalSince1970: 1_700_000_000)
            store.write(TagWrite(name: "A", value: "on", timestamp: first))
            try await store.flush()
            let seq = store.lastSeq
            let second = first.addingTimeInterval(60)
            store.write(TagWrite(name: "A", value: "on", timestamp: second))
            try await store.flush()
            #expect(try await store.changes(since: seq).isEmpty)
            #expect(store.lastSeq == seq)
            #expect(store.tag("A")?.updatedAt == second)
            #expect(
                try TestDatabase.sqlite3(store.path, "SELECT updated_at FROM tags WHERE name = 'A'")
                    == "2023-11-14T22:14:20.000Z")
            store.write(TagWrite(name: "A", value: "on", quality: .bad))
            try await store.flush()
            #expect(try await store.changes(since: seq).map(\.quality) == [.bad])
        }
    }

    @Test func subscribersGetOwnWritesInOrder() async throws {
        try await withStore { store, _ in
            let feed = store.subscribe()
            for index in 0..<5 {
                store.write(TagWrite(name: "T\(index % 2)", value: .int(Int64(index))))
                try await Task.sleep(for: .milliseconds(index * 7))
            }
            let changes = await collect(feed) { $0.count >= 5 }
            #expect(changes.map(\.value) == [0, 1, 2, 3, 4])
            #expect(changes.map(\.seq) == changes.map(\.seq).sorted())
        }
    }

    @Test func longPollReturnsEarlyOnAWrite() async throws {
        try await withStore { store, _ in
            let since = store.lastSeq
            let clock = ContinuousClock()
            let started = clock.now
            async let waited = store.waitForChanges(since: since, timeout: .seconds(20))
            try await Task.sleep(for: .milliseconds(50))
            store.write(TagWrite(name: "CP1.Authorize.Request", value: 1))
            let changes = try await waited
            let elapsed = clock.now - started
            #expect(changes.map(\.name) == ["CP1.Authorize.Request"])
            #expect(elapsed < .seconds(10))
        }
    }

    @Test func longPollTimesOutEmpty() async throws {
        try await withStore { store, _ in
            store.write(TagWrite(name: "A", value: 1))
            try await store.flush()
            let clock = ContinuousClock()
            let started = clock.now
            let changes = try await store.waitForChanges(since: store.lastSeq, timeout: .milliseconds(200))
            #expect(changes.isEmpty)
            #expect(clock.now - started >= .milliseconds(200))
            // An old `since` answers at once.
            #expect(try await store.waitForChanges(since: 0, timeout: .seconds(20)).count == 1)
        }
    }

    @Test func changeLogIsTrimmedToRetention() async throws {
        try await withStore(TagStoreConfiguration(changeRetention: 10)) { store, database in
            for round in 0..<3 {
                store.write((0..<10).map { TagWrite(name: "T\($0)", value: .int(Int64(round))) })
                try await store.flush()
            }
            #expect(try database.sqlite("SELECT count(*) FROM tag_changes") == "10")
            let retained = try await store.changes(since: 0)
            #expect(retained.count == 10)
            #expect(retained.first?.seq == store.lastSeq - 9)
            #expect(retained.allSatisfy { $0.value == .int(2) })
        }
    }

    @Test func aBurstOfWritesIsCommittedInAFewTransactions() async throws {
        try await withStore { store, _ in
            let before = store.lastSeq
            for index in 0..<1000 {
                store.write(TagWrite(name: "Burst.\(index % 100)", value: .int(Int64(index))))
            }
            try await store.flush()
            print("1,000 writes: \(store.flushCount) commits, largest \(store.largestFlush) writes")
            #expect(store.flushedWriteCount == 1000)
            #expect(store.flushCount <= 10)
            #expect(store.lastSeq - before == 1000)
        }
    }

    @Test func aFloodIsCommittedInCappedBatchesWithNothingLost() async throws {
        try await withStore(TagStoreConfiguration(maxBatch: 100)) { store, _ in
            let before = store.lastSeq
            for index in 0..<1000 {
                store.write(TagWrite(name: "Flood.\(index % 10)", value: .int(Int64(index))))
            }
            try await store.flush()
            #expect(store.flushedWriteCount == 1000)
            #expect(store.largestFlush <= 100)
            #expect(store.flushCount >= 10)
            #expect(store.lastSeq - before == 1000)
            let changes = try await store.changes(since: before, limit: 1000)
            #expect(changes.map(\.value) == (0..<1000).map { TagValue.int(Int64($0)) }, "in write order")
        }
    }

    @Test func writesAfterCloseAreRejected() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open()
        await store.close()
        store.write(TagWrite(name: "A", value: 1))
        #expect(store.tag("A") == nil)
        await #expect(throws: TagStoreError.closed) { try await store.flush() }
        await #expect(throws: TagStoreError.closed) { try await store.changes(since: 0) }
    }
}
