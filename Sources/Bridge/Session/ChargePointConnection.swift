import OCPPRPC

/// Why the bridge closes a charge point's WebSocket.
public enum SessionCloseReason: Sendable, Hashable {
    /// A newer connection with the same charge point id took over.
    case replaced
    /// The bridge is shutting down.
    case shutdown
    /// The peer broke the protocol beyond repair.
    case protocolError(String)
    /// The peer went over a limit that ends the connection (a message flood, silence past the idle timeout).
    case policyViolation(String)
}

/// The socket side of a session: the WebSocket layer implements it; tests implement it in memory.
public protocol ChargePointConnection: Sendable {
    /// Queues one text frame for sending; never blocks.
    func send(_ text: String)
    /// Closes the connection.
    func close(_ reason: SessionCloseReason)
}

/// Answers the CALLs a charge point sends: a CALLRESULT payload, or an error that becomes a CALLERROR.
public protocol IncomingCallHandler: Sendable {
    func handle(action: String, payload: JSONValue, session: ChargePointSession) async -> Result<JSONValue, RPCError>

    /// The same answer as `handle`, without a task, for a CALL that needs no task: one answered on the caller's
    /// thread (`.now`), or one decided through the tag handshake whose answer goes to `later`, exactly once, on
    /// the thread of the decider's write or of the timeout (`.later`; `later` may even run before this returns).
    /// nil leaves the CALL to `handle`; it must not have acted on the CALL when it returns nil.
    func answerWithoutTask(
        action: String, payload: JSONValue, session: ChargePointSession,
        later: @escaping @Sendable (Result<JSONValue, RPCError>) -> Void
    ) -> TasklessAnswer?
}

/// How `IncomingCallHandler.answerWithoutTask` answers a CALL.
public enum TasklessAnswer: Sendable {
    /// The answer, given at once.
    case now(Result<JSONValue, RPCError>)
    /// The answer will go to the `later` closure.
    case later
}

extension IncomingCallHandler {
    public func answerWithoutTask(
        action: String, payload: JSONValue, session: ChargePointSession,
        later: @escaping @Sendable (Result<JSONValue, RPCError>) -> Void
    ) -> TasklessAnswer? {
        nil
    }
}
