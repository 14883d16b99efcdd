/// What one charge point connection may ask of the bridge (docs/security.md); every limit has a default that
/// serves real chargers and stops a misbehaving or hostile one.
public struct SessionLimits: Sendable, Hashable {
    /// CALLs from the charge point waiting for their answer. OCPP-J allows one at a time; a few more are
    /// tolerated (some chargers send StatusNotifications back to back), the rest answered with a CALLERROR.
    public var maxPendingCalls = 10
    /// The bridge's own CALLs (REST, scripts, command tags, upstream) queued for one charge point; more fail
    /// at once (REST: 429) instead of waiting behind a backlog that would time out anyway.
    public var maxQueuedCalls = 100
    /// Messages per second a charge point may send on average…
    public var messagesPerSecond: Double = 50
    /// …and at once. Excess CALLs are answered with a CALLERROR; a charge point that sends more than
    /// `burst` excess messages within one second is disconnected (WebSocket close 1008).
    public var burst = 200

    public init() {}
}

/// The per-connection message budget: a token bucket of `burst` tokens refilled at `messagesPerSecond`, and
/// the count of refused messages in the current second. No clock of its own: the caller passes the time.
struct MessageBudget: Sendable {
    enum Verdict: Equatable {
        /// Within the budget.
        case accept
        /// Over the budget: refuse this message.
        case refuse
        /// Over the budget for too long: close the connection.
        case disconnect
    }

    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var last: Double?
    private var windowStart = 0.0
    private var refusedInWindow = 0

    init(limits: SessionLimits) {
        rate = max(limits.messagesPerSecond, 0.001)
        burst = Double(max(limits.burst, 1))
        tokens = burst
    }

    /// Spends one token for a message arriving at `now` (seconds on any monotonic clock).
    mutating func spend(at now: Double) -> Verdict {
        if let last { tokens = min(burst, tokens + (now - last) * rate) }
        last = now
        // A sender exactly at the rate must not lose to rounding.
        if tokens >= 1 - 1e-9 {
            tokens = max(tokens - 1, 0)
            return .accept
        }
        if now - windowStart >= 1 {
            windowStart = now
            refusedInWindow = 0
        }
        refusedInWindow += 1
        return Double(refusedInWindow) > burst ? .disconnect : .refuse
    }
}
