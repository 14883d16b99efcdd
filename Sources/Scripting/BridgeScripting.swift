import Bridge
import Foundation
import Logging
import OCPPRPC
import Synchronization
import TagStore

/// The script engine wired into the bridge: tag changes and decision requests flow in, tag writes and
/// CSMS-initiated calls flow out, and script errors are counted in `Scripts.Errors` / `Scripts.LastError`.
public final class BridgeScripting: Sendable {
    public let engine: ScriptEngine
    let host: BridgeScriptHost
    private let lastLoad = Mutex<[ScriptLoadError]>([])

    /// Creates the engine for `directory`; nothing runs before `start()`.
    public init(bridge: Bridge, directory: String, configuration: ScriptEngineConfiguration, logger: Logger) {
        host = BridgeScriptHost(bridge: bridge)
        engine = ScriptEngine(directory: directory, host: host, configuration: configuration, logger: logger)
    }

    /// Loads the scripts and connects the engine to the bridge's tags and decisions.
    @discardableResult
    public func start() async -> [ScriptLoadError] {
        let errors = await engine.start()
        lastLoad.withLock { $0 = errors }
        let engine = self.engine
        host.bridge.tags.observe { names in engine.tagsChanged(names) }
        host.bridge.decisionListeners.add(DecisionForwarder(engine: engine))
        return errors
    }

    /// Loads the scripts again in a fresh Lua state; charge points and tags are untouched.
    @discardableResult
    public func reload() async -> [ScriptLoadError] {
        let errors = await engine.reload()
        lastLoad.withLock { $0 = errors }
        return errors
    }

    /// Stops the engine's timers and thread.
    public func stop() { engine.stop() }

    /// The errors of the last load or reload.
    public var loadErrors: [ScriptLoadError] { lastLoad.withLock { $0 } }

    /// Script errors since start (load and run time).
    public var errorCount: Int { host.errors.withLock { $0 } }
}

/// Hands decision requests to the engine.
struct DecisionForwarder: DecisionListener {
    let engine: ScriptEngine

    func decisionRequested(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
        engine.decisionRequested(action: action, chargePoint: chargePoint, number: number, payload: payload)
    }
}

/// The bridge as the engine's host.
final class BridgeScriptHost: ScriptHost {
    let bridge: Bridge
    let errors = Mutex(0)

    init(bridge: Bridge) { self.bridge = bridge }

    func readTag(_ name: String) -> TagValue? { bridge.tags.value(name) }

    func listTags(prefix: String) -> [(name: String, value: TagValue)] {
        bridge.tags.store.tags(prefix: prefix).map { ($0.name, $0.value) }
    }

    func writeTags(_ writes: [(name: String, value: TagValue)]) {
        // A script keeps a tag's access as it is; tags it creates are user tags, writable by clients.
        bridge.tags.write(writes.map { write in
            TagWrite(name: write.name, value: write.value, access: bridge.tags.tag(write.name)?.access ?? .readWrite)
        })
    }

    func call(chargePoint: String, action: String, payload: JSONValue) async -> Result<JSONValue, ScriptCallError> {
        switch await bridge.call(chargePoint: chargePoint, action: action, payload: payload) {
        case .success(let answer):
            return .success(answer)
        case .failure(let failure):
            return .failure(ScriptCallError(code: failure.code?.rawValue ?? failure.kind.codeName, description: failure.reason))
        }
    }

    func scriptErrorOccurred(file: String, line: Int?, message: String) {
        let count = errors.withLock { count -> Int in
            count += 1
            return count
        }
        let location = line.map { "\(file):\($0)" } ?? file
        bridge.tags.write([
            TagWrite(name: "Scripts.Errors", value: .int(Int64(count))),
            TagWrite(name: "Scripts.LastError", value: .string("\(location): \(message)")),
        ])
    }
}

extension CallFailure.Kind {
    /// The code a script sees for a failure that is not a CALLERROR.
    var codeName: String {
        switch self {
        case .callError: return "GenericError"
        case .timeout: return "Timeout"
        case .disconnected: return "Disconnected"
        case .offline: return "NotConnected"
        case .invalidRequest: return "InvalidRequest"
        case .unknownAction: return "UnknownAction"
        case .busy: return "Busy"
        }
    }
}
