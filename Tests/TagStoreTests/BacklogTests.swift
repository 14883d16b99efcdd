import Foundation
import Testing

@testable import TagStore

/// The bounded queue of uncommitted writes: writers that can wait are held until commits make room.
@Suite struct BacklogTests {
    @Test func waitForRoomReturnsAtOnceBelowTheBacklog() async throws {
        try await withStore(TagStoreConfiguration(maxBacklog: 10)) { store, _ in
            store.write((0..<9).map { TagWrite(name: "T\($0)", value: .int(Int64($0))) })
            await store.waitForRoom()
            #expect(store.value("T8") == .int(8))
        }
    }

    @Test func waitForRoomHoldsAWriterUntilTheQueueIsCommitted() async throws {
        // A long flush interval: a full batch is committed without waiting for it.
        let configuration = TagStoreConfiguration(flushInterval: .seconds(2), maxBatch: 5, maxBacklog: 5)
        try await withStore(configuration) { store, database in
            store.write((0..<12).map { TagWrite(name: "T\($0)", value: .int(Int64($0))) })
            // Returns once commits brought the queue below 5: two full batches of 5 were committed.
            let committed = await Task {
                await store.waitForRoom()
                return store.flushedWriteCount
            }.value
            #expect(committed >= 10)
            #expect(try database.sqlite("SELECT count(*) FROM tags") != "0")
            try await store.flush()
            #expect(try database.sqlite("SELECT count(*) FROM tags") == "12")
        }
    }

    @Test func closingReleasesWaitingWriters() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open(TagStoreConfiguration(flushInterval: .seconds(2), maxBatch: 100, maxBacklog: 3))
        store.write((0..<5).map { TagWrite(name: "T\($0)", value: .int(Int64($0))) })
        let waiter = Task { await store.waitForRoom() }
        try await Task.sleep(for: .milliseconds(50))
        await store.close()
        await waiter.value
        #expect(try database.sqlite("SELECT count(*) FROM tags") == "5")
    }
}
