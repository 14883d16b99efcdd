import OCPPRPC

/// One upstream CSMS the bridge relays charge points to.
public struct UpstreamConfiguration: Sendable, Hashable {
    /// The name used in tags (`{cp}.Upstream.{name}.Online`) and logs.
    public var name: String
    /// The CSMS base URL (`ws://` or `wss://`); the bridge connects to `URL/{chargePointId}`.
    public var url: String
    /// Basic-auth password for this upstream (the username is the charge point id, as OCPP says), if any.
    public var password: String?
    /// Charge point id patterns (`*` matches any run of characters) this upstream serves.
    public var chargePoints: [String] = ["*"]
    /// Actions this upstream may send to charge points; nil = the default (all for the primary, read-only
    /// actions for secondaries).
    public var allowedActions: Set<String>?

    public init(name: String, url: String, password: String? = nil) {
        self.name = name
        self.url = url
        self.password = password
    }

    /// CSMS-initiated actions that change nothing on the charge point: what a secondary may send by default
    /// (1.6 and 2.0.1; the 2.0.1 reports come back as notifications, which every upstream gets a copy of).
    public static let readOnlyActions: Set<String> = [
        "GetConfiguration", "GetLocalListVersion", "GetCompositeSchedule",
        "GetVariables", "GetBaseReport", "GetReport", "GetTransactionStatus", "GetChargingProfiles",
    ]

    /// Whether this upstream serves charge point `id`.
    public func serves(_ id: String) -> Bool {
        chargePoints.contains { Self.matches(pattern: $0, id) }
    }

    /// Whether the upstream may send `action` to a charge point.
    public func allows(_ action: String, isPrimary: Bool) -> Bool {
        if let allowedActions { return allowedActions.contains(action) }
        return isPrimary || Self.readOnlyActions.contains(action)
    }

    static func matches(pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        guard text.hasPrefix(parts[0]) else { return false }
        var rest = Substring(text.dropFirst(parts[0].count))
        for (index, part) in parts.enumerated().dropFirst() {
            if index == parts.count - 1 { return part.isEmpty || rest.hasSuffix(part) }
            guard !part.isEmpty else { continue }
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}

/// One connection to one upstream for one charge point: what the proxy needs of a WebSocket client.
public protocol UpstreamTransport: Sendable {
    /// Text frames from the CSMS; finishes when the connection ends.
    var messages: AsyncStream<String> { get }
    /// Queues one text frame; never blocks.
    func send(_ text: String)
    /// Closes the connection.
    func close() async
}

/// Opens upstream connections (the WebSocket layer implements it; tests implement it in memory).
public protocol UpstreamConnector: Sendable {
    /// Connects to `upstream` for charge point `chargePointId`, offering `version`'s subprotocol.
    func connect(to upstream: UpstreamConfiguration, chargePointId: String, version: OCPPVersion) async throws -> any UpstreamTransport
}
