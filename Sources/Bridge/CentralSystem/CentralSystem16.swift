import Foundation
import Logging
import OCPP16
import OCPPRPC
import TagStore

/// The bridge as the Central System of OCPP 1.6 charge points: validates every CALL, answers it locally or
/// through the tag handshake, stores transactions durably before answering, and maps every message to tags.
public final class CentralSystem16: IncomingCallHandler {
    let core: CentralSystemCore

    public init(
        tags: TagService, mapping: TagMapping, registry: ChargePointRegistry, configuration: BridgeConfiguration,
        decisionListeners: DecisionListeners, proxy: ProxyLinks, admission: Admission, logger: Logger
    ) {
        self.core = CentralSystemCore(
            version: .v16, tags: tags, mapping: mapping, registry: registry, configuration: configuration,
            decisionListeners: decisionListeners, proxy: proxy, admission: admission, logger: logger)
    }

    var tags: TagService { core.tags }
    var logger: Logger { core.logger }

    public func handle(
        action: String, payload: JSONValue, session: ChargePointSession
    ) async -> Result<JSONValue, RPCError> {
        await core.handle(action: action, payload: payload, session: session, descriptor: OCPP16Actions.descriptor(for: action), answer: answer)
    }

    public func answerWithoutTask(
        action: String, payload: JSONValue, session: ChargePointSession,
        later: @escaping @Sendable (Result<JSONValue, RPCError>) -> Void
    ) -> TasklessAnswer? {
        core.answerWithoutTask(
            action: action, payload: payload, session: session, descriptor: OCPP16Actions.descriptor(for: action),
            acknowledges: Self.acknowledges, decision: DecisionPlan.make(for: action, authorize: Self.authorize), later: later)
    }

    /// An Authorize's decision: the idTag is the request; the idTagInfo the answer.
    static let authorize: DecisionPlan.Make = { payload in
        DecisionPlan(
            kind: .authorize, payload: payload, fields: [("IdTag", .string(payload["idTag"]?.stringValue ?? ""))],
            answer: { ["idTagInfo": $0.idTagInfo] })
    }

    /// The notifications `answer` acknowledges with an empty answer (and a copy upstream, if any).
    static func acknowledges(_ action: String) -> Bool {
        switch action {
        case "StatusNotification", "MeterValues", "DiagnosticsStatusNotification", "FirmwareStatusNotification": true
        default: false
        }
    }

    private func answer(
        action: String, payload: JSONValue, chargePoint cp: String, route: Route, upstream: Upstreams,
        extra: inout [String: JSONValue]
    ) async throws -> JSONValue {
        switch action {
        case "Authorize":
            if let answer = await upstream.decide(action, payload, valid: AuthorizeResponse.self) { return answer }
            return await core.decide(try Self.authorize(payload), route: route, chargePoint: cp)
        case "StartTransaction":
            return try await startTransaction(payload, route: route, chargePoint: cp, upstream: upstream, extra: &extra)
        case "StopTransaction":
            return try await stopTransaction(payload, route: route, chargePoint: cp, upstream: upstream, extra: &extra)
        case "DataTransfer":
            return await core.dataTransfer(payload, route: route, chargePoint: cp, upstream: upstream, valid: DataTransferResponse.self)
        case "MeterValues":
            if let transactionId = payload["transactionId"]?.intValue {
                upstream.deliverLater(action, payload, localTransactionId: transactionId)
            } else {
                await upstream.copy(action, payload)
            }
            return [:]
        default:
            // StatusNotification, DiagnosticsStatusNotification, FirmwareStatusNotification: acknowledged; their
            // content goes to the tags, and a copy upstream.
            await upstream.copy(action, payload)
            return [:]
        }
    }

    private func startTransaction(
        _ payload: JSONValue, route: Route, chargePoint cp: String, upstream: Upstreams, extra: inout [String: JSONValue]
    ) async throws -> JSONValue {
        let request = try StartTransactionRequest(json: payload)
        // The bridge's id, stored before anything else: the charge point always sees it, whatever answers.
        let record = try await tags.store.startTransaction(
            TransactionStart(
                chargePoint: cp, connectorId: request.connectorId, idTag: request.idTag,
                meterStart: Int64(request.meterStart), timestamp: request.timestamp))
        extra["transactionId"] = .int(record.id)
        // A resent StartTransaction gets the same id and is not delivered upstream a second time.
        if !record.isResend, let info = await upstream.deliver("StartTransaction", payload, localTransactionId: record.id, info: { info throws(PayloadError) in try IdTagInfo(json: info).json }) {
            return ["transactionId": .int(record.id), "idTagInfo": info]
        }
        let decision = await core.decide(.startTransaction, route: route, chargePoint: cp, payload: payload, fields: [
            ("IdTag", .string(request.idTag)), ("ConnectorId", .int(Int64(request.connectorId))),
            ("MeterStart", .int(Int64(request.meterStart))),
        ])
        return ["transactionId": .int(record.id), "idTagInfo": decision.idTagInfo]
    }

    private func stopTransaction(
        _ payload: JSONValue, route: Route, chargePoint cp: String, upstream: Upstreams, extra: inout [String: JSONValue]
    ) async throws -> JSONValue {
        let request = try StopTransactionRequest(json: payload)
        let known = try await tags.store.transaction(id: Int64(request.transactionId))
        if let known { extra["connectorId"] = .int(Int64(known.connectorId)) }
        if known == nil || known?.chargePoint != cp {
            logger.warning(
                "StopTransaction for a transaction the bridge does not know",
                metadata: ["ocpp.chargePointId": .string(cp), "ocpp.transactionId": .stringConvertible(request.transactionId)])
        }
        _ = try await tags.store.stopTransaction(
            TransactionStop(
                transactionId: Int64(request.transactionId), idTag: request.idTag, meterStop: Int64(request.meterStop),
                timestamp: request.timestamp, reason: request.reason?.rawValue ?? "Local",
                transactionData: payload["transactionData"]?.jsonText))
        // idTagInfo answers the idTag; a StopTransaction without one gets none.
        if let forwarded = await upstream.deliver("StopTransaction", payload, localTransactionId: Int64(request.transactionId), info: { info throws(PayloadError) in try IdTagInfo(json: info).json }) {
            return request.idTag == nil ? [:] : ["idTagInfo": forwarded]
        }
        let decision = await core.decide(.stopTransaction, route: route, chargePoint: cp, payload: payload, fields: [
            ("TransactionId", .int(Int64(request.transactionId))), ("IdTag", .string(request.idTag ?? "")),
            ("MeterStop", .int(Int64(request.meterStop))), ("Reason", .string(request.reason?.rawValue ?? "Local")),
        ])
        return request.idTag == nil ? [:] : ["idTagInfo": decision.idTagInfo]
    }
}

extension DecisionHandshake.Kind {
    static let authorizationStatuses: Set<String> = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
    static let idTagInfoParts = ["ExpiryDate", "ParentIdTag"]
    static var authorize: Self {
        Self(name: "Authorize", allowed: authorizationStatuses, defaultStatus: "Invalid", optionalAnswers: idTagInfoParts)
    }
    static var startTransaction: Self {
        Self(name: "StartTransaction", allowed: authorizationStatuses, defaultStatus: "Invalid", optionalAnswers: idTagInfoParts)
    }
    static var stopTransaction: Self {
        Self(name: "StopTransaction", allowed: authorizationStatuses, defaultStatus: "Accepted", optionalAnswers: idTagInfoParts)
    }
    static var dataTransfer: Self {
        Self(
            name: "DataTransfer", allowed: ["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"],
            defaultStatus: "UnknownVendorId", optionalAnswers: ["ResponseData"])
    }
}

extension DecisionHandshake.Decision {
    /// The OCPP 1.6 idTagInfo of this decision.
    var idTagInfo: JSONValue {
        var info: [String: JSONValue] = ["status": .string(status)]
        if let expiryDate { info["expiryDate"] = .string(OCPPDateTime.format(expiryDate)) }
        if let parentIdTag { info["parentIdTag"] = .string(parentIdTag) }
        return .object(info)
    }
}

extension TagWrite {
    /// A tag write from a mapping rule's output.
    init(mapped: MappedTag, timestamp: Date) {
        self.init(name: mapped.name, value: TagValue(json: mapped.value), unit: mapped.unit, timestamp: timestamp)
    }
}

extension TagValue {
    /// A scalar JSON value as a tag value; arrays and objects become their JSON text.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .string(json.jsonText)
        }
    }

    /// The tag value as JSON.
    public var json: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        }
    }
}
