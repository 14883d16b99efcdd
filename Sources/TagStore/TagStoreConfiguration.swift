/// Settings of a ``TagStore``; the defaults serve a bridge with no configuration at all.
public struct TagStoreConfiguration: Sendable {
    /// How long writes collect before the background task commits them in one transaction (default 10 ms).
    public var flushInterval: Duration
    /// How often the store looks for change-log rows written by other processes (default 25 ms).
    public var externalPollInterval: Duration
    /// How many rows of `tag_changes` to keep; older ones are trimmed now and then (default 100,000).
    public var changeRetention: Int
    /// How long a statement waits for a lock held by another connection or process (default 5 s).
    public var busyTimeout: Duration
    /// The most writes one commit takes (default 2,000): under a flood the writer is released between
    /// commits, so changes made by other processes are still noticed promptly.
    public var maxBatch: Int
    /// The most writes queued before ``TagStore/waitForRoom()`` makes writers wait for commits (default
    /// 20,000): under a sustained flood the bridge slows its answers to what SQLite commits, instead of
    /// growing the queue (and the lag of the file behind the mirror) without bound.
    public var maxBacklog: Int

    /// Creates a configuration; every argument has a default that serves.
    public init(
        flushInterval: Duration = .milliseconds(10),
        externalPollInterval: Duration = .milliseconds(25),
        changeRetention: Int = 100_000,
        busyTimeout: Duration = .seconds(5),
        maxBatch: Int = 2_000,
        maxBacklog: Int = 20_000
    ) {
        self.maxBatch = max(maxBatch, 1)
        self.maxBacklog = max(maxBacklog, 1)
        self.flushInterval = flushInterval
        self.externalPollInterval = externalPollInterval
        self.changeRetention = changeRetention
        self.busyTimeout = busyTimeout
    }
}

extension Duration {
    /// The duration in seconds, as GRDB and Foundation want it.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
