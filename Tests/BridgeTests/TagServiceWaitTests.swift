import Foundation
import Logging
import TagStore
import Testing

@testable import Bridge

/// `TagService.wait`: every wait ends when its tag gets there or at its own timeout, whatever other waits there
/// are; one sweeper task ends the timed-out ones.
@Suite struct TagServiceWaitTests {
    private static func service() throws -> TagService {
        let logger = Logger(label: "TagServiceWaitTests")
        return TagService(store: try TagStore.temporary(logger: logger), logger: logger)
    }

    @Test func aWaitEndsWhenTheTagGetsThereAndAnotherAtItsTimeout() async throws {
        let tags = try Self.service()
        defer { Task { await tags.store.close() } }
        let started = ContinuousClock.now
        async let answered = tags.wait(for: "CP1.Authorize.Response", timeout: .seconds(30)) { $0?.integerValue == 1 }
        async let unanswered = tags.wait(for: "CP2.Authorize.Response", timeout: .milliseconds(200)) { $0?.integerValue == 1 }
        try await Task.sleep(for: .milliseconds(50))
        tags.write([TagWrite(name: "CP1.Authorize.Response", value: .int(1))])
        #expect(await answered)
        #expect(await unanswered == false)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(10), "\(elapsed)")
    }

    /// A wait with a shorter timeout than those already waiting still ends at its own timeout, not theirs
    /// (bounds loose enough for a loaded machine: the longer wait's timeout is a minute).
    @Test func aShorterTimeoutStartedLaterEndsFirst() async throws {
        let tags = try Self.service()
        defer { Task { await tags.store.close() } }
        async let long = tags.wait(for: "A", timeout: .seconds(60)) { $0 != nil }
        try await Task.sleep(for: .milliseconds(20))
        let started = ContinuousClock.now
        #expect(await tags.wait(for: "B", timeout: .milliseconds(100)) { $0 != nil } == false)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(100) && elapsed < .seconds(20), "\(elapsed)")
        tags.write([TagWrite(name: "A", value: .int(1))])
        #expect(await long)
    }

    /// Many waits with mixed timeouts, some answered: each ends once, answered or at its timeout.
    @Test func manyWaitsEachEndOnce() async throws {
        let tags = try Self.service()
        defer { Task { await tags.store.close() } }
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for index in 0..<200 {
                group.addTask {
                    let result = await tags.wait(for: "T\(index)", timeout: .milliseconds(50 + (index % 7) * 40)) { $0 == .int(1) }
                    return (index, result)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(10))
                tags.write((0..<200).filter { $0 % 2 == 0 }.map { TagWrite(name: "T\($0)", value: .int(1)) })
                return (-1, true)
            }
            var results: [Int: Bool] = [:]
            for await (index, result) in group where index >= 0 {
                #expect(results[index] == nil)
                results[index] = result
            }
            return results
        }
        #expect(results.count == 200)
        for (index, result) in results {
            #expect(result == (index % 2 == 0), "T\(index)")
        }
    }
}
