import Foundation
import OCPPRPC

/// Everything a mapping rule may read: the charge point, the clock, the CALL and its answer.
///
/// Rules address the parts as paths: `cp`, `now`, `request.…`, `response.…`, `extra.…`.
public struct MappingContext: Sendable {
    /// The charge point id (`cp` in rules).
    public var chargePointId: String
    /// The time the message was handled (`now` in rules).
    public var now: Date {
        didSet { nowText = OCPPDateTime.format(now) }
    }
    /// `now` as OCPP writes times, formatted once per message.
    public private(set) var nowText: String
    /// The CALL payload (`request.…` in rules).
    public var request: JSONValue
    /// The answer the bridge sent or relayed, when known (`response.…` in rules).
    public var response: JSONValue?
    /// Values the bridge computes that the message does not carry (`extra.…` in rules).
    public var extra: [String: JSONValue]

    /// Creates a context for one message.
    public init(
        chargePointId: String, now: Date = Date(), request: JSONValue, response: JSONValue? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.init(
            chargePointId: chargePointId, now: now, nowText: OCPPDateTime.format(now), request: request, response: response,
            extra: extra)
    }

    /// A context whose caller formatted `now` already (`nowText` must be `OCPPDateTime.format(now)`).
    init(chargePointId: String, now: Date, nowText: String, request: JSONValue, response: JSONValue?, extra: [String: JSONValue]) {
        self.chargePointId = chargePointId
        self.now = now
        self.nowText = nowText
        self.request = request
        self.response = response
        self.extra = extra
    }
}
