import Foundation
import Logging
import OCPPRPC
import TagStore

/// `ocpp-bench tags`: the tag database's write path alone, without WebSockets: how many tag writes per second
/// the batched commits take, and the CPU each costs (docs/performance.md).
///
/// Writes go in groups of `perCall` (like the tags of one OCPP message) to `tags` names in turn. Each group's value
/// is a timestamp text (like `{cp}.LastSeen`) one millisecond after the previous group's, so that every write is a
/// change and gets a change-log row.
struct TagStoreBench: Sendable {
    var writes: Int
    var tags: Int
    var perCall: Int
    /// Writes per second; 0 writes as fast as the queue takes them (full batches).
    var rate: Double

    struct Report: Sendable {
        var seconds: Double
        var cpuSeconds: Double
        var commits: Int
        var largestCommit: Int
        var changeRows: Int64
    }

    func run() async throws -> Report {
        var logger = Logger(label: "ocpp-bench.tags")
        logger.logLevel = .warning
        let store = try TagStore.temporary(logger: logger)
        let folder = URL(fileURLWithPath: store.path).deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = (0..<tags).map { "BENCH\($0 / 2).Tag\($0 % 2)" }
        let firstSeq = store.lastSeq
        let cpuStart = ProcessProbe.ownCPUSeconds()
        let start = ContinuousClock.now
        var written = 0
        var groups = 0
        while written < writes {
            await store.waitForRoom()
            let now = Date()
            let value = TagValue.string(OCPPDateTime.format(Date(timeIntervalSince1970: 1_800_000_000 + Double(groups) / 1000)))
            groups += 1
            let group = (0..<min(perCall, writes - written)).map { index in
                TagWrite(name: names[(written + index) % names.count], value: value, timestamp: now)
            }
            store.write(group)
            written += group.count
            if rate > 0, groups % 64 == 0 {
                let due = start + .seconds(Double(written) / rate)
                if due > .now { try await Task.sleep(until: due, clock: .continuous) }
            }
        }
        try await store.flush()
        let elapsed = ContinuousClock.now - start
        let report = Report(
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            cpuSeconds: ProcessProbe.ownCPUSeconds() - cpuStart,
            commits: store.flushCount, largestCommit: store.largestFlush, changeRows: store.lastSeq - firstSeq)
        await store.close()
        return report
    }
}
