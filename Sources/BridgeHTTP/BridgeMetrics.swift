import Bridge
import Scripting

/// `/metrics` in the Prometheus text format.
struct BridgeMetrics: Sendable {
    let bridge: Bridge
    let scripting: BridgeScripting?

    func render() -> String {
        let all = bridge.registry.all
        let online = all.filter(\.online).count
        let store = bridge.tags.store
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: some Numeric) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(value)")
        }
        func gauge(_ name: String, _ help: String, _ value: some Numeric) { metric(name, "gauge", help, value) }
        func counter(_ name: String, _ help: String, _ value: some Numeric) { metric(name, "counter", help, value) }
        gauge("ocpp_bridge_chargepoints_known", "Charge points seen since the database was created.", all.count)
        gauge("ocpp_bridge_chargepoints_connected", "Charge points connected now.", online)
        gauge("ocpp_bridge_tags", "Tags in the tag database.", store.tags(prefix: "").count)
        gauge("ocpp_bridge_tag_change_seq", "The newest change sequence number.", store.lastSeq)
        counter("ocpp_bridge_tag_flushes_total", "SQLite transactions that committed queued tag writes.", store.flushCount)
        counter("ocpp_bridge_tag_writes_flushed_total", "Tag writes committed by those transactions.", store.flushedWriteCount)
        gauge("ocpp_bridge_tag_largest_flush", "The most tag writes committed in one transaction.", store.largestFlush)
        if let scripting {
            gauge("ocpp_bridge_scripts_loaded", "Lua scripts loaded now.", scripting.engine.loadedScripts.count)
            counter("ocpp_bridge_script_errors_total", "Script errors (loading and running) since start.", scripting.errorCount)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
