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
    /// The protocols the bridge accepts, most preferred first: a charge point offering several gets the first
    /// of this list it offered.
    public var protocols: [OCPPVersion] = [.v201, .v16]
    /// Whether the subprotocol `ocpp2.0` (sent by some early 2.0.1 firmware) is accepted as 2.0.1.
    public var treatOcpp20As201 = true
    /// How each action is answered.
    public var routing = RoutingPolicy()
    /// The upstream CSMSs, primary first; empty = the bridge is the CSMS.
    public var upstreams: [UpstreamConfiguration] = []
    /// The pause between two messages replayed from an upstream's queue (a backlog replayed at full speed
    /// looks like an attack to a CSMS).
    public var replayInterval: Duration = .milliseconds(100)
    /// Promotes a secondary to decide while the primary is unreachable; nil = no failover.
    public var failover: Failover?
    /// Who may connect: the security profile and the policy for unknown charge points (docs/security.md).
    public var security = SecurityConfiguration()
    /// What one connection may ask of the bridge: pending CALLs, message rate.
    public var sessionLimits = SessionLimits()

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

/// The route per action. Without an upstream, decisions go through the tags and everything else is local;
/// with one, decisions are forwarded (and fall back to the tags while the upstream is unreachable), and
/// notifications are answered locally and copied upstream.
public struct RoutingPolicy: Sendable, Hashable {
    /// Routes set explicitly (configuration file); others follow the defaults above.
    public var routes: [String: Route] = [:]

    public init() {}

    /// The actions whose answer is a decision (routable to tags or upstream).
    public static let decisions: Set<String> = ["Authorize", "StartTransaction", "StopTransaction", "DataTransfer"]

    public func route(for action: String, hasUpstream: Bool) -> Route {
        if let route = routes[action] { return route }
        guard Self.decisions.contains(action) else { return .local }
        return hasUpstream ? .forward : .tags
    }
}

/// When the primary upstream has been unreachable for `after`, the upstream named `to` decides instead.
public struct Failover: Sendable, Hashable {
    /// The secondary that takes over.
    public var to: String
    /// How long the primary must have been unreachable.
    public var after: Duration
    /// Whether decisions go back to the primary as soon as it is reachable again (else the secondary keeps
    /// deciding until it becomes unreachable itself).
    public var failback: Bool

    public init(to: String, after: Duration = .seconds(60), failback: Bool = true) {
        self.to = to
        self.after = after
        self.failback = failback
    }
}
