import Foundation
import GRDB
import Testing

@testable import TagStore

/// A batch commits a tag written several times with one or two upserts and logs its other changes itself
/// (`TagBatch`); the database must end up exactly as if every write had been upserted on its own.
@Suite struct TagBatchTests {
    /// Random batches over a few tags and values, on top of random stored rows (some written by "another
    /// process" with a bare INSERT): the tags and the change log match upserting each write in turn.
    @Test func aBatchLeavesWhatUpsertingEachWriteLeaves() throws {
        var random = SplitMix64(seed: 7)
        let names = ["CP1.A", "CP1.B", "CP2.A", "CP2.B"]
        let values: [TagValue] = [.int(1), .int(2), .double(1), .string("1"), .string("x"), .bool(true), .null, .string("e\u{301}"), .string("\u{e9}")]
        let qualities: [TagQuality] = [.good, .good, .good, .bad]
        var clock = Date(timeIntervalSince1970: 1_800_000_000)
        func write(_ name: String) -> TagWrite {
            clock += 0.001
            return TagWrite(
                name: name, value: values[random.next(values.count)], quality: qualities[random.next(qualities.count)],
                timestamp: clock)
        }
        var coalescedBatches = 0
        for round in 0..<200 {
            let reference = try DatabaseQueue()
            let subject = try DatabaseQueue()
            for database in [reference, subject] { try SchemaMigrations.apply(to: database) }
            // Stored before the batch: nothing, a bridge write, or a row another process inserted bare.
            for name in names {
                switch random.next(3) {
                case 0:
                    break
                case 1:
                    let stored = write(name)
                    for database in [reference, subject] { try database.write { try TagRows.upsert(stored, in: $0) } }
                default:
                    let value = random.next(2) == 0 ? "1" : "x"
                    for database in [reference, subject] {
                        try database.write {
                            try $0.execute(
                                sql: "INSERT INTO tags (name, value, updated_at) VALUES (?, ?, '2027-01-01T00:00:00.000Z')",
                                arguments: [name, value])
                        }
                    }
                }
            }
            let batch = (0..<random.next(12) + 1).map { _ in write(names[random.next(names.count)]) }
            try reference.write { db in
                for write in batch { try TagRows.upsert(write, in: db) }
            }
            try subject.write { db in try TagRows.write(batch, in: db) }
            if Set(batch.map(\.name)).count < batch.count { coalescedBatches += 1 }
            #expect(try contents(of: subject) == contents(of: reference), "round \(round): \(batch.map { "\($0.name)=\($0.value) \($0.quality.rawValue)" })")
        }
        #expect(coalescedBatches > 120)
    }

    @Test func aTagWrittenSeveralTimesGetsOneUpsertAndARowPerChange() throws {
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        func write(_ value: TagValue, _ ms: Double, quality: TagQuality = .good) -> TagWrite {
            TagWrite(name: "CP1.A", value: value, quality: quality, timestamp: t + ms / 1000)
        }
        // Stored: "x". Then x (no change), y, x, x (no change), x bad, x bad (no change).
        let batch = [
            write("x", 1), write("y", 2), write("x", 3), write("x", 4), write("x", 5, quality: .bad), write("x", 6, quality: .bad),
        ]
        #expect(
            TagBatch.plan(batch, stored: { _ in TagBatch.State(value: "x".databaseValue, type: "string", quality: "good") })
                == [.skip, .log, .log, .skip, .upsert, .upsert])
        // Back to the stored state at the end: the triggers would not log the last change.
        #expect(
            TagBatch.plan(Array(batch.prefix(3)), stored: { _ in TagBatch.State(value: "x".databaseValue, type: "string", quality: "good") })
                == [.skip, .log, .logThenUpsert])
        // No row yet: the first write is a change; the last change is upserted (an insert), as is the last write.
        #expect(TagBatch.plan([write("y", 1), write("y", 2)], stored: { _ in nil }) == [.upsert, .upsert])
        // Tags written once are upserted, and their rows are not read.
        let once = [TagWrite(name: "A", value: 1), TagWrite(name: "B", value: 2)]
        #expect(TagBatch.plan(once, stored: { name in Issue.record("read \(name)"); return nil }) == [.upsert, .upsert])
    }

    /// End to end through the store: one commit of many writes to few tags, read back with the sqlite3 tool.
    @Test func theStoreLogsEveryChangeOfABatchInWriteOrder() async throws {
        try await withStore(TagStoreConfiguration(flushInterval: .seconds(2))) { store, database in
            let t = Date(timeIntervalSince1970: 1_800_000_000)
            var expected: [String] = []
            var last: [String: Int64] = [:]
            var writes: [TagWrite] = []
            for step in 0..<300 {
                // Each tag is written every third step, and its value changes every third write of it.
                let name = "CP\(step % 3).LastSeen"
                let value = Int64(step / 9)
                writes.append(TagWrite(name: name, value: .int(value), timestamp: t + Double(step) / 1000))
                if last[name] != value { expected.append("\(name)|\(value)") }
                last[name] = value
            }
            store.write(writes)
            try await store.flush()
            #expect(store.flushCount == 1)
            let logged = try database.sqlite("SELECT name, value FROM tag_changes ORDER BY seq").split(separator: "\n").map(String.init)
            #expect(logged == expected)
            #expect(logged.count < 300)
            #expect(expected.count == 102)
            #expect(try database.sqlite("SELECT value FROM tags WHERE name = 'CP2.LastSeen'") == "33")
            #expect(store.lastSeq == Int64(expected.count))
        }
    }

    /// A statement SQLite refuses (here: a trigger another process installed) fails the commit with SQLite's
    /// message; the writes stay queued and are committed once the refusal is gone, change-log rows included.
    @Test func aRefusedBatchStaysQueuedAndCommitsLater() async throws {
        try await withStore(TagStoreConfiguration(flushInterval: .seconds(2))) { store, database in
            for (table, event) in [("tags", "UPDATE"), ("tag_changes", "INSERT")] {
                store.write(TagWrite(name: "CP1.A", value: 0))
                try await store.flush()
                try database.sqlite("CREATE TRIGGER refuse BEFORE \(event) ON \(table) BEGIN SELECT RAISE(ABORT, 'refused by test'); END")
                // Written twice: an upsert, and a change-log row inserted by the batch itself.
                store.write([TagWrite(name: "CP1.A", value: 1), TagWrite(name: "CP1.A", value: 2)])
                await #expect(throws: TagStoreError.self) { try await store.flush() }
                do {
                    try await store.flush()
                } catch {
                    #expect("\(error)".contains("refused by test"), "\(table): \(error)")
                }
                #expect(store.value("CP1.A") == .int(2))
                try database.sqlite("DROP TRIGGER refuse")
                try await store.flush()
                #expect(try database.sqlite("SELECT value FROM tags WHERE name = 'CP1.A'") == "2")
                #expect(try database.sqlite("SELECT group_concat(value) FROM (SELECT value FROM tag_changes ORDER BY seq DESC LIMIT 2)") == "2,1")
            }
        }
    }

    private func contents(of database: DatabaseQueue) throws -> [String] {
        try database.read { db in
            let tags = try String.fetchAll(
                db, sql: "SELECT name || '|' || quote(value) || '|' || type || '|' || quality || '|' || updated_at || '|' || access FROM tags ORDER BY name")
            let changes = try String.fetchAll(
                db, sql: "SELECT seq || '|' || name || '|' || quote(value) || '|' || type || '|' || quality || '|' || updated_at FROM tag_changes ORDER BY seq")
            return tags + ["--"] + changes
        }
    }
}

/// A small seeded generator, so that a failing round can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
