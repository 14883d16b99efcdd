import ArgumentParser
import Foundation
import Hummingbird
import OCPPRPC

/// `ocpp-bench`: the load generator (docs/performance.md).
@main
struct OCPPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-bench",
        abstract: "Load generator for OCPP-J: simulated charge points over real WebSockets, and a do-nothing echo peer.",
        subcommands: [Run.self, Echo.self, Tags.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run N simulated charge points against a CSMS and print the figures.")

        @Option(help: "The CSMS base URL; each charge point connects to URL/ID.") var url = "ws://127.0.0.1:9000/ocpp"
        @Option(help: "How many charge points.") var chargepoints = 10
        @Option(help: "Measured seconds (after connecting and the warm-up).") var seconds = 10.0
        @Option(help: "Seconds after all charge points connected before measuring.") var warmup = 2.0
        @Option(help: "closed (the next CALL as soon as the answer arrives) or rate.") var mode = "closed"
        @Option(help: "With --mode rate: CALLs per second per charge point.") var rate = 1.0
        @Option(help: "The message mix, comma-separated: heartbeat, status, meter, authorize.") var messages = "heartbeat"
        @Flag(help: "Full transactions instead of the message mix.") var transactions = false
        @Option(help: "ocpp1.6 or ocpp2.0.1.") var `protocol` = "ocpp1.6"
        @Option(help: "The CSMS's process id, to report its CPU and memory.") var pid: Int32?
        @Option(help: "Charge point ids are PREFIX0, PREFIX1, ...") var idPrefix = "BENCH"
        @Option(help: "New connections per second.") var connectRate = 500.0
        @Flag(help: "Print one JSON object instead of the summary.") var json = false

        func validate() throws {
            guard OCPPVersion(rawValue: `protocol`) != nil else { throw ValidationError("--protocol must be ocpp1.6 or ocpp2.0.1") }
            guard LoadRun.Mode(rawValue: mode) != nil else { throw ValidationError("--mode must be closed or rate") }
            guard chargepoints > 0, seconds > 0, connectRate > 0, rate > 0 else { throw ValidationError("counts, times and rates must be positive") }
            for name in messages.split(separator: ",") where Workload.Message(rawValue: String(name)) == nil {
                throw ValidationError("unknown message '\(name)' (heartbeat, status, meter)")
            }
        }

        func run() async throws {
            let workload = Workload(
                version: OCPPVersion(rawValue: `protocol`) ?? .v16,
                messages: messages.split(separator: ",").compactMap { Workload.Message(rawValue: String($0)) },
                transactions: transactions)
            let load = LoadRun(
                url: url, chargePoints: chargepoints, seconds: seconds, warmup: warmup, mode: LoadRun.Mode(rawValue: mode) ?? .closed,
                rate: rate, workload: workload, idPrefix: idPrefix, connectRate: connectRate, bridgePID: pid)
            let report = await load.run()
            print(json ? report.json(load).jsonText : report.summary(load))
            if report.errorCount > 0 || report.tally.calls == 0 { throw ExitCode(1) }
        }
    }

    struct Echo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A do-nothing OCPP peer answering every CALL at once.")
        @Option(help: "The address to listen on.") var host = "127.0.0.1"
        @Option(help: "The port (0 picks a free one).") var port = 9100
        @Option(help: "The WebSocket transport: nio (the bridge's own) or hummingbird (hummingbird-websocket).")
        var transport = EchoPeer.Transport.nio

        func run() async throws {
            let peer = EchoPeer(host: host, port: port)
            let announce: @Sendable (String) async -> Void = { address in
                print("listening echo=\(address)")
                fflush(nil)  // a pipe is block-buffered: whoever started us waits for this line
            }
            switch transport {
            case .nio: try await peer.nioApplication(onRunning: announce).runService()
            case .hummingbird: try await peer.hummingbirdApplication(onRunning: announce).runService()
            }
        }
    }

    struct Tags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the tag database's batched writes alone (a temporary SQLite file, no WebSockets).")
        @Option(help: "How many tag writes.") var writes = 400_000
        @Option(help: "How many distinct tags they go to, in turn.") var tags = 200
        @Option(help: "Writes per call (the tags one OCPP message maps to).") var perCall = 2
        @Option(help: "Writes per second; 0 for as fast as the queue takes them.") var rate = 0.0

        func validate() throws {
            guard writes > 0, tags > 0, perCall > 0, rate >= 0 else { throw ValidationError("counts must be positive") }
        }

        func run() async throws {
            let report = try await TagStoreBench(writes: writes, tags: tags, perCall: perCall, rate: rate).run()
            print(String(format: "tag writes/s %.0f   writes %d over %d tags   %.2f s", Double(writes) / report.seconds, writes, tags, report.seconds))
            print(String(format: "CPU %.1f µs per write (the whole process)", report.cpuSeconds * 1e6 / Double(writes)))
            print("commits \(report.commits)   largest \(report.largestCommit) writes   change-log rows \(report.changeRows)")
        }
    }
}

extension LoadRun.Report {
    func summary(_ load: LoadRun) -> String {
        let h = tally.latencies
        var lines = [
            "\(load.chargePoints) charge points (\(connected) connected), \(load.workload.version.rawValue), \(load.mode.rawValue) loop"
                + (load.mode == .rate ? " at \(load.rate)/s each" : "") + ", \(load.workload.transactions ? "transactions" : load.workload.messages.map(\.rawValue).joined(separator: ",")), \(Int(seconds)) s measured",
            String(format: "calls/s %.0f   calls %d   errors %d", callsPerSecond, tally.calls, errorCount),
            "latency µs  p50 \(h.valueAtPercentile(50))  p90 \(h.valueAtPercentile(90))  p99 \(h.valueAtPercentile(99))  p99.9 \(h.valueAtPercentile(99.9))  max \(h.max)",
            String(format: "generator CPU %.0f%% of one core", generatorCPU),
        ]
        if let bridgeCPU { lines.append(String(format: "CSMS CPU %.0f%% of one core", bridgeCPU)) }
        if let bridgeRSS { lines.append("CSMS RSS \(bridgeRSS / (1 << 20)) MiB") }
        for (kind, count) in tally.errors.sorted(by: { $0.key < $1.key }) { lines.append("error \(kind): \(count)") }
        return lines.joined(separator: "\n")
    }

    func json(_ load: LoadRun) -> JSONValue {
        let h = tally.latencies
        var object: [String: JSONValue] = [
            "chargePoints": .int(Int64(load.chargePoints)), "connected": .int(Int64(connected)),
            "protocol": .string(load.workload.version.rawValue), "mode": .string(load.mode.rawValue),
            "seconds": .double(seconds), "calls": .int(Int64(tally.calls)), "callsPerSecond": .double(callsPerSecond),
            "errors": .int(Int64(errorCount)),
            "errorKinds": .object(tally.errors.mapValues { .int(Int64($0)) }),
            "latencyMicroseconds": [
                "p50": .int(Int64(h.valueAtPercentile(50))), "p90": .int(Int64(h.valueAtPercentile(90))),
                "p99": .int(Int64(h.valueAtPercentile(99))), "p999": .int(Int64(h.valueAtPercentile(99.9))), "max": .int(Int64(h.max)),
            ],
            "generatorCPUPercent": .double(generatorCPU),
        ]
        if let bridgeCPU { object["csmsCPUPercent"] = .double(bridgeCPU) }
        if let bridgeRSS { object["csmsRSSBytes"] = .int(Int64(bridgeRSS)) }
        return .object(object)
    }
}

extension EchoPeer.Transport: ExpressibleByArgument {}
