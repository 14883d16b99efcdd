import Foundation
import Logging
import OCPPRPC
import Scripting
import Synchronization
import TagStore

/// An in-memory `ScriptHost`: a dictionary of tags, the write batches in order, the reported errors, and
/// `call` answered by a closure. Writes notify the engine like the bridge does.
final class MemoryHost: ScriptHost {
    struct ReportedError: Sendable {
        var file: String
        var line: Int?
        var message: String
    }

    private struct State {
        var tags: [String: TagValue] = [:]
        var batches: [[(name: String, value: TagValue)]] = []
        var errors: [ReportedError] = []
        var observer: (@Sendable ([String]) -> Void)?
    }

    private let state = Mutex(State())
    private let answer: @Sendable (String, String, JSONValue) async -> Result<JSONValue, ScriptCallError>

    init(answer: @escaping @Sendable (String, String, JSONValue) async -> Result<JSONValue, ScriptCallError> = { _, _, _ in
        .success([:])
    }) {
        self.answer = answer
    }

    /// Sends every write's names to `engine.tagsChanged`, like the bridge.
    func attach(_ engine: ScriptEngine) {
        state.withLock { $0.observer = { [weak engine] names in engine?.tagsChanged(names) } }
    }

    func readTag(_ name: String) -> TagValue? { state.withLock { $0.tags[name] } }

    func listTags(prefix: String) -> [(name: String, value: TagValue)] {
        state.withLock { state in
            state.tags.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }

    func writeTags(_ writes: [(name: String, value: TagValue)]) {
        let observer = state.withLock { state in
            for write in writes { state.tags[write.name] = write.value }
            state.batches.append(writes)
            return state.observer
        }
        observer?(writes.map(\.name))
    }

    func call(chargePoint: String, action: String, payload: JSONValue) async -> Result<JSONValue, ScriptCallError> {
        await answer(chargePoint, action, payload)
    }

    func scriptErrorOccurred(file: String, line: Int?, message: String) {
        state.withLock { $0.errors.append(ReportedError(file: file, line: line, message: message)) }
    }

    // MARK: - For tests

    /// A write from outside the engine (a SCADA client).
    func write(_ name: String, _ value: TagValue) { writeTags([(name, value)]) }

    subscript(name: String) -> TagValue? { readTag(name) }

    var batches: [[(name: String, value: TagValue)]] { state.withLock { $0.batches } }
    var errors: [ReportedError] { state.withLock { $0.errors } }
}

/// A scripts folder in a fresh temporary directory.
struct ScriptFolder {
    let path: String

    init(_ scripts: [String: String]) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lua-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.path
        for (name, source) in scripts { try write(name, source) }
    }

    func write(_ name: String, _ source: String) throws {
        try source.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }
}

/// Polls `condition` every few milliseconds until it holds or `seconds` pass. The deadline only bounds how
/// long a failing test takes: the suite runs hundreds of tests at once on as few as two cores, where a task
/// can wait seconds for a thread (CI saw five), so a short deadline fails tests that would have passed.
func eventually(within seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

let quietLogger = Logger(label: "scripting-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// An engine on `scripts`, attached to `host` and started; returns it with the load errors.
func startEngine(
    _ folder: ScriptFolder, host: MemoryHost, configuration: ScriptEngineConfiguration = .init()
) -> (ScriptEngine, [ScriptLoadError]) {
    let engine = ScriptEngine(directory: folder.path, host: host, configuration: configuration, logger: quietLogger)
    host.attach(engine)
    let errors = engine.start()
    return (engine, errors)
}

/// Answers for `call` that wait until the test releases them: a test can then know a call is in flight
/// (`started`) and decide what happens before its answer arrives, without guessing with sleeps.
final class HeldAnswers: Sendable {
    private struct State {
        var started = 0
        var released = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let result: JSONValue

    init(result: JSONValue) {
        self.result = result
    }

    /// How many calls have asked for an answer so far.
    var started: Int { state.withLock { $0.started } }

    /// The answer, once `release()` has been called.
    func answer() async -> Result<JSONValue, ScriptCallError> {
        await withCheckedContinuation { continuation in
            let answerNow = state.withLock { state in
                state.started += 1
                if state.released { return true }
                state.waiting.append(continuation)
                return false
            }
            if answerNow { continuation.resume() }
        }
        return .success(result)
    }

    /// Answers every held call and every later one at once.
    func release() {
        let waiting = state.withLock { state in
            state.released = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
