import OCPPRPC
import TagStore

/// What the script engine needs from the bridge: tags, CSMS-initiated calls and error accounting.
///
/// The engine calls these from its own thread; implementations must return promptly (`call` is async and
/// runs in a Swift task, never on the engine's thread).
public protocol ScriptHost: Sendable {
    /// The current value of a tag, or nil if there is no such tag.
    func readTag(_ name: String) -> TagValue?
    /// Every tag whose name starts with `prefix`, in name order.
    func listTags(prefix: String) -> [(name: String, value: TagValue)]
    /// Writes the tags in one batch, in the given order.
    func writeTags(_ writes: [(name: String, value: TagValue)])
    /// Issues a CSMS-initiated request to a charge point and returns its answer or the error.
    func call(chargePoint: String, action: String, payload: JSONValue) async -> Result<JSONValue, ScriptCallError>
    /// Counts a script error (the engine has already logged it).
    func scriptErrorOccurred(file: String, line: Int?, message: String)
}

/// Why a `call` from a script got no answer: a CALLERROR from the charge point, or a local failure.
public struct ScriptCallError: Error, Sendable, Hashable {
    /// The OCPP error code (e.g. "NotImplemented") or a local one (e.g. "Timeout", "NotConnected").
    public var code: String
    /// A human-readable description.
    public var description: String

    /// Creates an error with a code and a description.
    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }
}
