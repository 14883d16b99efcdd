import Foundation
import Logging
import TagStore

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

        public init(name: String, allowed: Set<String>, defaultStatus: String) {
            self.name = name
            self.allowed = allowed
            self.defaultStatus = defaultStatus
        }
    }

    /// What the decider (or the default) said.
    public struct Decision: Sendable, Hashable {
        public var status: String
        /// `{cp}.{Kind}.ResponseData`, for DataTransfer.
        public var data: TagValue?
        /// True when nobody answered in time and the default applied.
        public var timedOut: Bool
    }

    let tags: TagService
    let timeout: Duration
    let logger: Logger

    public init(tags: TagService, timeout: Duration, logger: Logger) {
        self.tags = tags
        self.timeout = timeout
        self.logger = logger
    }

    /// Runs one handshake for charge point `chargePoint`.
    /// - Parameters:
    ///   - fields: the request fields, written as `{cp}.{Kind}.{field}` before the counter moves.
    public func decide(chargePoint: String, kind: Kind, fields: [(String, TagValue)]) async -> Decision {
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
        if kind.name == "DataTransfer", tags.tag("\(prefix).ResponseData") == nil {
            writes.append(TagWrite(name: "\(prefix).ResponseData", value: .string(""), access: .readWrite))
        }
        writes.append(TagWrite(name: requestTag, value: .int(number)))
        tags.write(writes)

        let answered = await tags.wait(for: responseTag, timeout: timeout) { value in
            value?.integerValue == number
        }
        guard answered else {
            logger.warning(
                "decision timed out, default applied",
                metadata: ["ocpp.decision": .string(kind.name), "ocpp.status": .string(kind.defaultStatus)])
            return Decision(status: kind.defaultStatus, data: nil, timedOut: true)
        }
        let status = tags.value(statusTag)?.textValue ?? ""
        guard kind.allowed.contains(status) else {
            logger.warning(
                "decider answered a status that is not allowed, default applied",
                metadata: ["ocpp.decision": .string(kind.name), "ocpp.status": .string(status)])
            return Decision(status: kind.defaultStatus, data: nil, timedOut: false)
        }
        let data = kind.name == "DataTransfer" ? tags.value("\(prefix).ResponseData") : nil
        return Decision(status: status, data: data, timedOut: false)
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
