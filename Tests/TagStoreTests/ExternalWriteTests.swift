import Foundation
import Testing

@testable import TagStore

/// Writes by another process (the sqlite3 tool) on the same database file.
@Suite struct ExternalWriteTests {
    @Test func externalUpdateReachesSubscribersAndMirrorQuickly() async throws {
        try await withStore { store, database in
            store.write(TagWrite(name: "CP1.Authorize.Status", value: "Invalid", access: .readWrite))
            try await store.flush()
            var latencies: [Double] = []
            for round in 1...5 {
                let feed = store.subscribe()
                // Note when each batch arrives, as it arrives.
                let arrival = Task { () -> (TagChange, Date)? in
                    for await batch in feed {
                        if let change = batch.first(where: { $0.name == "CP1.Authorize.Status" }) {
                            return (change, Date())
                        }
                    }
                    return nil
                }
                try await database.sqliteAsync(
                    "UPDATE tags SET value = 'Accepted\(round)' WHERE name = 'CP1.Authorize.Status'")
                let timeout = Task {
                    try? await Task.sleep(for: .seconds(5))
                    arrival.cancel()
                }
                let result = await arrival.value
                timeout.cancel()
                let (change, seen) = try #require(result)
                #expect(change.value == .string("Accepted\(round)"))
                #expect(store.value("CP1.Authorize.Status") == .string("Accepted\(round)"))
                #expect(store.tag("CP1.Authorize.Status")?.access == .readWrite)
                // updated_at was stamped by the trigger when sqlite3 wrote the row.
                latencies.append(seen.timeIntervalSince(change.updatedAt))
            }
            let sorted = latencies.sorted()
            print("external change noticed after (ms): \(sorted.map { Int($0 * 1000) }), median \(Int(sorted[2] * 1000))")
            // The requirement is 100 ms; assert with slack for a loaded CI machine.
            #expect(sorted[2] < 1.0)
            #expect(sorted[0] > -0.1)
        }
    }

    @Test func externalIntegerIntoBoolTagStaysBool() async throws {
        try await withStore { store, database in
            store.write(TagWrite(name: "CP1.Online", value: false))
            try await store.flush()
            try await database.sqliteAsync("UPDATE tags SET value = 1 WHERE name = 'CP1.Online'")
            #expect(await eventually { store.value("CP1.Online") == .bool(true) })
            #expect(try database.sqlite("SELECT type FROM tags WHERE name = 'CP1.Online'") == "bool")
            let last = try await store.changes(since: 0).last
            #expect(last?.value == .bool(true))
        }
    }

    @Test func externalInsertOfNameAndValueInfersTypeAndTime() async throws {
        try await withStore { store, database in
            let feed = store.subscribe()
            try await database.sqliteAsync(
                "INSERT INTO tags (name, value) VALUES ('Site.Setpoint', 11.5); INSERT INTO tags (name, value) VALUES ('Site.Count', 3)")
            let changes = await collect(feed) { $0.count >= 2 }
            #expect(changes.map(\.value) == [.double(11.5), .int(3)])
            let tag = try #require(store.tag("Site.Setpoint"))
            #expect(tag.access == .readWrite)
            #expect(abs(tag.updatedAt.timeIntervalSinceNow) < 60)
            #expect(store.value("Site.Count") == .int(3))
        }
    }

    @Test func externalWriteOfTheSameValueMakesNoChangeRow() async throws {
        try await withStore { store, database in
            store.write(TagWrite(name: "A", value: 5))
            try await store.flush()
            let seq = store.lastSeq
            try await database.sqliteAsync("UPDATE tags SET value = 5 WHERE name = 'A'")
            try await database.sqliteAsync("UPDATE tags SET value = '6' WHERE name = 'A'")
            #expect(await eventually { store.value("A") == .int(6) })
            #expect(try await store.changes(since: seq).map(\.value) == [.int(6)])
        }
    }

    @Test func queuedWriteWinsOverAnOlderExternalWrite() async throws {
        try await withStore(TagStoreConfiguration(flushInterval: .milliseconds(200))) { store, database in
            store.write(TagWrite(name: "A", value: 1))
            try await store.flush()
            try await database.sqliteAsync("UPDATE tags SET value = 2 WHERE name = 'A'")
            store.write(TagWrite(name: "A", value: 3))
            try await Task.sleep(for: .milliseconds(100))
            #expect(store.value("A") == .int(3))
            try await store.flush()
            #expect(store.value("A") == .int(3))
            #expect(try database.sqlite("SELECT value FROM tags WHERE name = 'A'") == "3")
            let values = try await store.changes(since: 0).map(\.value)
            #expect(values == [.int(1), .int(2), .int(3)])
        }
    }
}
