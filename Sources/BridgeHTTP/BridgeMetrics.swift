import Bridge

/// `/metrics` in the Prometheus text format.
struct BridgeMetrics: Sendable {
    let bridge: Bridge

    func render() -> String {
        let all = bridge.registry.all
        let online = all.filter(\.online).count
        let store = bridge.tags.store
        var lines: [String] = []
        func gauge(_ name: String, _ help: String, _ value: some Numeric) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            lines.append("\(name) \(value)")
        }
        gauge("ocpp_bridge_chargepoints_known", "Charge points seen since the database was created.", all.count)
        gauge("ocpp_bridge_chargepoints_connected", "Charge points connected now.", online)
        gauge("ocpp_bridge_tags", "Tags in the tag database.", store.tags(prefix: "").count)
        gauge("ocpp_bridge_tag_change_seq", "The newest change sequence number.", store.lastSeq)
        return lines.joined(separator: "\n") + "\n"
    }
}
