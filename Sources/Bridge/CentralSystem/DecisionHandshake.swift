import Foundation
import Logging
import OCPPRPC
import Synchronization
import TagStore

/// Told of every decision request the moment its tags are written (the script engine is one).
public protocol DecisionListener: Sendable {
    /// A decision `number` for `action` of charge point `chargePoint` waits for an answer; `payload` is the
    /// charge point's request.
    func decisionRequested(action: String, chargePoint: String, number: Int64, payload: JSONValue)
}

/// The listeners the handshake tells of new requests.
public final class DecisionListeners: Sendable {
    private let listeners = Mutex<[any DecisionListener]>([])

    public init() {}

    /// Adds a listener.
    public func add(_ listener: any DecisionListener) {
        listeners.withLock { $0.append(listener) }
    }

    func notify(action: String, chargePoint: String, number: Int64, payload: JSONValue) {
        for listener in listeners.withLock({ $0 }) {
            listener.decisionRequested(action: action, chargePoint: chargePoint, number: number, payload: payload)
        }
    }
}

/// The SCADA handshake of ARCHITECTURE.md: the bridge writes a request's fields as tags and increments
/// `{cp}.{Kind}.Request`; a decider writes `{cp}.{Kind}.Status` (and `.ResponseData`), then copies the
/// request number into `{cp}.{Kind}.Response`. The bridge answers once `Response == Request`, or applies
/// the default when the timeout passes.
public struct DecisionHandshake: Sendable {
    /// One kind of decision: its tag namespace, allowed answers and default.
    public struct Kind: Sendable, Hashable {
        public var name: String
        public var allowed: Set<String>
        public var defaultStatus: String
        /// Answer tags besides `.Status` a decider may write (`ExpiryDate`, `ParentIdTag`, `ResponseData`).
        public var optionalAnswers: [String]
        /// The longest `ParentIdTag` the protocol takes (1.6: 20, 2.0.1: 36).
        public var parentIdTagLimit: Int

        public init(name: String, allowed: Set<String>, defaultStatus: String, optionalAnswers: [String], parentIdTagLimit: Int = 20) {
            self.name = name
            self.allowed = allowed
            self.defaultStatus = defaultStatus
            self.optionalAnswers = optionalAnswers
            self.parentIdTagLimit = parentIdTagLimit
        }
    }

    /// What the decider (or the default) said.
    public struct Decision: Sendable, Hashable {
        public var status: String
        /// `{cp}.{Kind}.ResponseData`, for DataTransfer.
        public var data: TagValue?
        /// `{cp}.{Kind}.ExpiryDate` and `.ParentIdTag`, optional parts of an idTagInfo.
        public var expiryDate: Date? = nil
        public var parentIdTag: String? = nil
        /// True when nobody answered in time and the default applied.
        public var timedOut: Bool
    }

    let tags: TagService
    let timeout: Duration
    let listeners: DecisionListeners
    let logger: Logger

    public init(tags: TagService, timeout: Duration, listeners: DecisionListeners = DecisionListeners(), logger: Logger) {
        self.tags = tags
        self.timeout = timeout
        self.listeners = listeners
        self.logger = logger
    }

    /// Runs one handshake for charge point `chargePoint`.
    /// - Parameters:
    ///   - fields: the request fields, written as `{cp}.{Kind}.{field}` before the counter moves.
    ///   - payload: the charge point's request, for listeners (scripts get it as a table).
    public func decide(chargePoint: String, kind: Kind, fields: [(String, TagValue)], payload: JSONValue) async -> Decision {
        await withCheckedContinuation { continuation in
            decide(chargePoint: chargePoint, kind: kind, fields: fields, payload: payload) { continuation.resume(returning: $0) }
        }
    }

    /// Runs one handshake like `decide(chargePoint:kind:fields:payload:)` and calls `then` with the decision, on the
    /// thread of the decider's write (the script engine's, an API request's) or of the timeout's timer: no task
    /// waits for the decider (docs/performance.md).
    public func decide(
        chargePoint: String, kind: Kind, fields: [(String, TagValue)], payload: JSONValue,
        then: @escaping @Sendable (Decision) -> Void
    ) {
        let prefix = "\(chargePoint).\(kind.name)"
        let requestTag = "\(prefix).Request"
        let responseTag = "\(prefix).Response"
        let statusTag = "\(prefix).Status"
        let number = (tags.value(requestTag)?.integerValue ?? 0) + 1
        var writes = fields.map { TagWrite(name: "\(prefix).\($0.0)", value: $0.1) }
        // The answer tags exist from the first request on, writable, so a SCADA client can find them.
        for answer in [statusTag, responseTag] where tags.tag(answer) == nil {
            writes.append(TagWrite(name: answer, value: answer == responseTag ? .int(0) : .string(""), access: .readWrite))
        }
        // Optional answer parts are cleared with every request, so that no answer inherits an older one's.
        for optional in kind.optionalAnswers {
            writes.append(TagWrite(name: "\(prefix).\(optional)", value: .null, access: .readWrite))
        }
        writes.append(TagWrite(name: requestTag, value: .int(number)))
        tags.write(writes)
        listeners.notify(action: kind.name, chargePoint: chargePoint, number: number, payload: payload)

        tags.wait(for: responseTag, timeout: timeout, until: { $0?.integerValue == number }) { answered in
            then(decision(of: kind, prefix: prefix, answered: answered))
        }
    }

    /// The decision the answer tags under `prefix` hold, or the default when nobody `answered`.
    private func decision(of kind: Kind, prefix: String, answered: Bool) -> Decision {
        guard answered else {
            logger.warning(
                "decision timed out, default applied",
                metadata: ["ocpp.decision": .string(kind.name), "ocpp.status": .string(kind.defaultStatus)])
            return Decision(status: kind.defaultStatus, data: nil, timedOut: true)
        }
        let statusTag = "\(prefix).Status"
        let status = tags.value(statusTag)?.textValue ?? ""
        guard kind.allowed.contains(status) else {
            logger.warning(
                "decider answered a status that is not allowed, default applied",
                metadata: ["ocpp.decision": .string(kind.name), "ocpp.status": .string(status)])
            return Decision(status: kind.defaultStatus, data: nil, timedOut: false)
        }
        var decision = Decision(status: status, data: nil, timedOut: false)
        if kind.optionalAnswers.contains("ResponseData") {
            decision.data = tags.value("\(prefix).ResponseData").flatMap { $0 == .null ? nil : $0 }
        }
        if kind.optionalAnswers.contains("ExpiryDate"), let text = tags.value("\(prefix).ExpiryDate")?.textValue, !text.isEmpty {
            decision.expiryDate = OCPPDateTime.parse(text)
            if decision.expiryDate == nil {
                logger.warning("decider wrote an ExpiryDate that is not an RFC 3339 date; left out", metadata: ["ocpp.decision": .string(kind.name)])
            }
        }
        if kind.optionalAnswers.contains("ParentIdTag"), let text = tags.value("\(prefix).ParentIdTag")?.textValue, !text.isEmpty {
            if text.count <= kind.parentIdTagLimit {
                decision.parentIdTag = text
            } else {
                logger.warning(
                    "decider wrote a ParentIdTag longer than \(kind.parentIdTagLimit) characters; left out",
                    metadata: ["ocpp.decision": .string(kind.name)])
            }
        }
        return decision
    }
}

extension TagValue {
    /// The value as an integer: ints, integral doubles and numeric strings (external writers vary).
    public var integerValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        case .string(let s): return Int64(s.trimmingCharacters(in: .whitespaces))
        case .bool(let b): return b ? 1 : 0
        case .null, .double: return nil
        }
    }

    /// The value as text, for string answers.
    public var textValue: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        case .null: return nil
        }
    }
}
