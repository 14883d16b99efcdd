import Dispatch
import Foundation
import Testing

@testable import TagStore

/// The bridge's tasks all run on two event loops, and the WebSocket upgrade reads registrations synchronously
/// on one of them. A reader the store lends to an async read must come back even while the awaiting task's
/// only thread is blocked, or that blocked thread waits for a reader forever.
@Suite(.timeLimit(.minutes(1))) struct ReaderReleaseTests {
    /// A task executor with a single thread, like one event loop.
    final class OneThread: TaskExecutor, @unchecked Sendable {
        let queue = DispatchQueue(label: "ReaderReleaseTests.one-thread")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    /// Holds the calling thread, as a synchronous call on an event loop does.
    static func block(seconds: Double) {
        Thread.sleep(forTimeInterval: seconds)
    }

    @Test func aBlockedThreadStillGetsAReaderWhileAsyncReadsWaitForIt() async throws {
        try await withStore { store, _ in
            try await store.saveRegistration(Registration(chargePoint: "CP1", status: .accepted))
            let thread = OneThread()
            let found = await withTaskGroup(of: Bool.self) { group in
                // More async reads than the pool has readers (5): each finishes its read on a reader, then
                // waits for the one thread to run it again.
                for _ in 0..<8 {
                    group.addTask(executorPreference: thread) { (try? await store.registrations().count) == 1 }
                }
                // Then that thread blocks, as the upgrade path blocks an event loop, and reads synchronously.
                group.addTask(executorPreference: thread) {
                    Self.block(seconds: 0.3)
                    return (try? store.registration(of: "CP1"))??.status == .accepted
                }
                var all: [Bool] = []
                for await result in group { all.append(result) }
                return all
            }
            #expect(found == Array(repeating: true, count: 9))
        }
    }
}
