/// Exponential reconnect delays with random jitter, capped at a maximum; a pure value type.
public struct ReconnectBackoff: Sendable, Hashable {
    /// The first delay.
    public let initial: Duration
    /// The largest delay ever returned.
    public let maximum: Duration
    /// The factor between consecutive delays.
    public let multiplier: Double
    /// The relative jitter: each delay is scaled by a random factor in `1 - jitter ... 1 + jitter`.
    public let jitter: Double
    /// The delay (before jitter) the next call to `nextDelay` returns.
    public private(set) var current: Duration

    /// Creates a backoff; out-of-range arguments are clamped (multiplier at least 1, jitter within 0...1).
    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(60), multiplier: Double = 2, jitter: Double = 0.2) {
        let initial = max(initial, .zero)
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.multiplier = multiplier.isFinite ? max(multiplier, 1) : 1
        self.jitter = jitter.isFinite ? min(max(jitter, 0), 1) : 0
        self.current = initial
    }

    /// Returns the next delay and advances the sequence.
    public mutating func nextDelay(using generator: inout some RandomNumberGenerator) -> Duration {
        let base = Self.seconds(current)
        let factor = jitter > 0 ? 1 + Double.random(in: -jitter...jitter, using: &generator) : 1
        let delay = min(max(base * factor, 0), Self.seconds(maximum))
        current = min(Self.duration(base * multiplier), maximum)
        return Self.duration(delay)
    }

    /// Returns the next delay using the system random number generator.
    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// Starts the sequence again from the initial delay, after a connection succeeded.
    public mutating func reset() {
        current = initial
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private static func duration(_ seconds: Double) -> Duration {
        // Whole nanoseconds: plenty for reconnect delays, and exact for whole seconds.
        let nanoseconds = (seconds * 1e9).rounded()
        guard nanoseconds < Double(Int64.max) else { return .nanoseconds(Int64.max) }
        return .nanoseconds(Int64(nanoseconds))
    }
}
