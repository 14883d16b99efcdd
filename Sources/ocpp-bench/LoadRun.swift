import Foundation
import Histogram
import Logging
import OCPPRPC
import Upstream

/// One bounded load run: N simulated charge points over real WebSockets, then the figures.
struct LoadRun: Sendable {
    enum Mode: String, Sendable {
        /// The next CALL as soon as the answer arrives.
        case closed
        /// One CALL every 1/rate seconds per charge point.
        case rate
    }

    var url: String
    var chargePoints: Int
    var seconds: Double
    var warmup: Double
    var mode: Mode
    var rate: Double
    var workload: Workload
    var idPrefix: String
    var connectRate: Double
    var bridgePID: Int32?

    /// What one charge point saw.
    struct Tally: Sendable {
        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var calls = 0
        var errors: [String: Int] = [:]
        var connected = false

        mutating func merge(_ other: Tally) {
            latencies.add(other.latencies)
            calls += other.calls
            for (kind, count) in other.errors { errors[kind, default: 0] += count }
        }
    }

    /// The figures of a run.
    struct Report: Sendable {
        var tally: Tally
        var connected: Int
        var seconds: Double
        var bridgeCPU: Double?
        var bridgeRSS: Int?
        var generatorCPU: Double

        var callsPerSecond: Double { Double(tally.calls) / seconds }
        var errorCount: Int { tally.errors.values.reduce(0, +) }
    }

    func run() async -> Report {
        let logger = Logger(label: "ocpp-bench")
        let clock = ContinuousClock()
        let start = clock.now
        let connectPhase = Duration.seconds(Double(chargePoints) / connectRate)
        let measureFrom = start + connectPhase + .seconds(warmup)
        let measureUntil = measureFrom + .seconds(seconds)
        let probe = bridgePID.map(ProcessProbe.init(pid:))
        let sampler = probe.map { probe in
            Task { () -> (cpu: Double?, rss: Int?) in
                try? await clock.sleep(until: measureFrom)
                let before = probe.cpuSeconds()
                var peak = probe.rssBytes()
                while clock.now < measureUntil {
                    try? await clock.sleep(for: .milliseconds(500))
                    if let rss = probe.rssBytes() { peak = max(peak ?? 0, rss) }
                }
                let after = probe.cpuSeconds()
                let cpu = before.flatMap { b in after.map { a in (a - b) / seconds * 100 } }
                return (cpu, peak)
            }
        }
        let generatorBefore = ProcessProbe.ownCPUSeconds()
        var total = Tally()
        var connected = 0
        await withTaskGroup(of: Tally.self) { group in
            for index in 0..<chargePoints {
                let connectAt = start + .seconds(Double(index) / connectRate)
                group.addTask {
                    await simulate(index: index, connectAt: connectAt, measureFrom: measureFrom, measureUntil: measureUntil, logger: logger)
                }
            }
            for await tally in group {
                if tally.connected { connected += 1 }
                total.merge(tally)
            }
        }
        let generatorCPU = (ProcessProbe.ownCPUSeconds() - generatorBefore) / (clock.now - start).seconds * 100
        let bridge = await sampler?.value
        return Report(
            tally: total, connected: connected, seconds: seconds, bridgeCPU: bridge?.cpu, bridgeRSS: bridge?.rss,
            generatorCPU: generatorCPU)
    }

    /// One charge point: connect, boot, then CALLs until the end of the window; answers inside the window are
    /// counted and timed.
    private func simulate(index: Int, connectAt: ContinuousClock.Instant, measureFrom: ContinuousClock.Instant, measureUntil: ContinuousClock.Instant, logger: Logger) async -> Tally {
        let clock = ContinuousClock()
        var tally = Tally()
        try? await clock.sleep(until: connectAt)
        let id = "\(idPrefix)\(index)"
        let connection: UpstreamConnection
        do {
            connection = try await UpstreamConnection.connect(
                to: "\(url)/\(id)", subprotocols: [workload.version.subprotocol], basicAuth: nil, connectTimeout: .seconds(10),
                maxMessageSize: 1 << 20, pingInterval: nil, logger: logger)
        } catch {
            tally.errors["connect: \(error.kind)", default: 0] += 1
            return tally
        }
        tally.connected = true
        // The connection closes a little after the window, which ends a wait for an answer that never comes.
        let closer = Task {
            try? await clock.sleep(until: measureUntil + .seconds(3))
            await connection.close()
        }
        var answers = connection.messages.makeAsyncIterator()
        var sequence = 0
        func exchange(_ action: String, _ payload: JSONValue) async -> Outcome {
            sequence += 1
            let messageId = String(sequence)
            connection.send(RPCMessage.call(id: messageId, action: action, payload: payload).text)
            while let text = await answers.next() {
                guard let message = try? RPCMessage(parsing: text) else { return .failed("bad frame") }
                switch message {
                case .callResult(let id, let result) where id == messageId: return .answered(result)
                case .callError(let id, let code, _, _) where id == messageId: return .failed(code.rawValue)
                default: continue  // a CALL from the bridge, or an old answer
                }
            }
            return .failed(clock.now < measureUntil ? "disconnected" : "unanswered at the end")
        }
        let (bootAction, bootPayload) = workload.boot(id: id)
        if case .failed(let why) = await exchange(bootAction, bootPayload) {
            tally.errors["boot: \(why)", default: 0] += 1
            closer.cancel()
            await connection.close()
            return tally
        }
        var step = 0
        var meter: Int64 = 0
        var transactionId: JSONValue?
        let interval = Duration.seconds(1 / max(rate, 0.001))
        // Rate mode starts each charge point at a random point of its period, so that they do not all send at once.
        var next = clock.now + (mode == .rate ? interval * Double.random(in: 0..<1) : .zero)
        sending: while clock.now < measureUntil {
            if mode == .rate {
                try? await clock.sleep(until: next)
                next += interval
                if clock.now >= measureUntil { break sending }
            }
            if workload.transactions, workload.version == .v201, step % 3 == 0 { transactionId = .string(UUID().uuidString) }
            let (action, payload) = workload.call(step: step, meter: meter, transactionId: transactionId)
            let sent = clock.now
            let result = await exchange(action, payload)
            let answered = clock.now
            let inWindow = sent >= measureFrom && answered <= measureUntil
            switch result {
            case .answered(let answer):
                if workload.transactions, workload.version == .v16, action == "StartTransaction" { transactionId = answer["transactionId"] }
                if inWindow {
                    tally.calls += 1
                    _ = tally.latencies.record(UInt64(max(0, (answered - sent).microseconds)))
                }
            case .failed(let why):
                if why == "unanswered at the end" { break sending }
                if inWindow || why == "disconnected" { tally.errors[why, default: 0] += 1 }
                if why == "disconnected" { break sending }
            }
            step += 1
            meter += 10
        }
        closer.cancel()
        await connection.close()
        return tally
    }
}

/// The end of one CALL.
enum Outcome: Sendable {
    case answered(JSONValue)
    /// A CALLERROR code, or what went wrong on the connection.
    case failed(String)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
