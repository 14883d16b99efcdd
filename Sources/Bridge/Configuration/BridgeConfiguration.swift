import OCPPRPC

/// How the bridge answers charge points; every field has a default that serves.
public struct BridgeConfiguration: Sendable {
    /// The heartbeat interval (seconds) sent in BootNotification answers.
    public var heartbeatInterval: Int = 300
    /// How long the bridge waits for a decider to answer a tag handshake before it applies the default.
    public var decisionTimeout: Duration = .seconds(5)
    /// The answers applied when a handshake times out.
    public var decisionDefaults = DecisionDefaults()
    /// How long the bridge's own CALLs (REST, command tags) wait for the charge point's answer, queueing included.
    public var callTimeout: Duration = .seconds(30)
    /// The protocol assumed when a charge point offers no subprotocol at all.
    public var fallbackProtocol: OCPPVersion = .v16
    /// How each action is answered.
    public var routing = RoutingPolicy()

    public init() {}
}

/// The answers applied when a decision handshake times out.
public struct DecisionDefaults: Sendable, Hashable {
    public var authorize = "Invalid"
    public var startTransaction = "Invalid"
    public var stopTransaction = "Accepted"
    public var dataTransfer = "UnknownVendorId"

    public init() {}
}

/// How an action from a charge point is answered.
public enum Route: String, Sendable, Hashable, CaseIterable {
    /// The bridge answers on its own.
    case local
    /// The tag handshake decides (a script or any SCADA client).
    case tags
    /// An upstream CSMS answers and the bridge relays.
    case forward
}

/// The route per action; actions not listed use `local`.
public struct RoutingPolicy: Sendable, Hashable {
    public var routes: [String: Route] = [
        "Authorize": .tags, "StartTransaction": .tags, "StopTransaction": .tags, "DataTransfer": .tags,
    ]

    public init() {}

    public func route(for action: String) -> Route { routes[action] ?? .local }
}
