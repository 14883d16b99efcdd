/// Limits and options of a `ScriptEngine`; the defaults serve.
public struct ScriptEngineConfiguration: Sendable {
    /// Lua VM instructions allowed per entry into Lua (a handler call or a coroutine resume).
    public var instructionLimit: Int
    /// Bytes the Lua state may allocate; past it an allocation fails with a Lua memory error.
    public var memoryLimit: Int
    /// The smallest period `every` accepts, in seconds.
    public var minimumTimerPeriod: Double

    /// Creates a configuration (defaults: 10,000,000 instructions per entry, 64 MiB, 0.01 s).
    public init(instructionLimit: Int = 10_000_000, memoryLimit: Int = 64 << 20, minimumTimerPeriod: Double = 0.01) {
        self.instructionLimit = instructionLimit
        self.memoryLimit = memoryLimit
        self.minimumTimerPeriod = minimumTimerPeriod
    }
}
