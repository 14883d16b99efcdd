import Synchronization

/// Makes message ids that are unique per connection and direction: a per-process random prefix and a counter.
public final class MessageIDGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    public init(prefix: String? = nil) {
        self.prefix = prefix ?? String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    /// The next id, e.g. `k3f9a-17`; at most 36 characters.
    public func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return "\(prefix)-\(n)"
    }
}
