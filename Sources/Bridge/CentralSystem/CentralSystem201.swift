import Foundation
import Logging
import OCPP201
import OCPPRPC
import TagStore

/// The bridge as the CSMS of OCPP 2.0.1 charging stations: the same service as `CentralSystem16`, on the same
/// tags and the same decision handshake (docs/ocpp201.md). TransactionEvents are stored durably before they
/// are answered; the station's transaction ids are kept beside the bridge's own.
public final class CentralSystem201: IncomingCallHandler {
    let core: CentralSystemCore

    public init(
        tags: TagService, mapping: TagMapping, registry: ChargePointRegistry, configuration: BridgeConfiguration,
        decisionListeners: DecisionListeners, proxy: ProxyLinks, admission: Admission, logger: Logger
    ) {
        self.core = CentralSystemCore(
            version: .v201, tags: tags, mapping: mapping, registry: registry, configuration: configuration,
            decisionListeners: decisionListeners, proxy: proxy, admission: admission, logger: logger)
    }

    public func handle(
        action: String, payload: JSONValue, session: ChargePointSession
    ) async -> Result<JSONValue, RPCError> {
        await core.handle(action: action, payload: payload, session: session, descriptor: OCPP201Actions.descriptor(for: action), answer: answer)
    }

    public func answerWithoutTask(
        action: String, payload: JSONValue, session: ChargePointSession,
        later: @escaping @Sendable (Result<JSONValue, RPCError>) -> Void
    ) -> TasklessAnswer? {
        core.answerWithoutTask(
            action: action, payload: payload, session: session, descriptor: OCPP201Actions.descriptor(for: action),
            acknowledges: Self.acknowledges, decision: DecisionPlan.make(for: action, authorize: Self.authorize), later: later)
    }

    /// An Authorize's decision: the idToken and its type are the request (scripts also see it as `idTag`); the
    /// idTokenInfo the answer.
    static let authorize: DecisionPlan.Make = { payload in
        let request = try AuthorizeRequest(json: payload)
        return DecisionPlan(
            kind: .authorize201, payload: payload.withNeutralKeys(["idTag": .string(request.idToken.idToken)]),
            fields: [("IdTag", .string(request.idToken.idToken)), ("IdTokenType", .string(request.idToken.type.rawValue))],
            answer: { ["idTokenInfo": $0.idTokenInfo] })
    }

    /// The notifications `answer` acknowledges with an empty answer (and a copy upstream, if any): all but the
    /// actions it decides or stores.
    static func acknowledges(_ action: String) -> Bool {
        switch action {
        case "Authorize", "TransactionEvent", "DataTransfer", "NotifyEVChargingNeeds": false
        default: true
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
        case "TransactionEvent":
            // Routed as the 1.6 decision it stands for: Ended as StopTransaction, the others as StartTransaction.
            let ended = payload["eventType"]?.stringValue == TransactionEventEnum.ended.rawValue
            let (route, upstream) = core.upstreams(for: cp, action: ended ? "StopTransaction" : "StartTransaction")
            return try await transactionEvent(payload, route: route, chargePoint: cp, upstream: upstream, extra: &extra)
        case "DataTransfer":
            return await core.dataTransfer(payload, route: route, chargePoint: cp, upstream: upstream, valid: DataTransferResponse.self)
        case "NotifyEVChargingNeeds":
            // The needs go to the tags and upstream; a schedule, if any, comes from a script or the upstream
            // with SetChargingProfile, so the bridge itself answers Processing.
            if let answer = await upstream.decide(action, payload, valid: NotifyEVChargingNeedsResponse.self) { return answer }
            return ["status": "Processing"]
        default:
            // StatusNotification, MeterValues, NotifyReport, the other notifications: acknowledged; their
            // content goes to the tags, and a copy upstream.
            await upstream.copy(action, payload)
            return [:]
        }
    }

    /// Stores the event's transaction (started at its first event the bridge sees), decides the `idToken` it
    /// carries through the handshake, and delivers it upstream store-and-forward.
    private func transactionEvent(
        _ payload: JSONValue, route: Route, chargePoint cp: String, upstream: Upstreams, extra: inout [String: JSONValue]
    ) async throws -> JSONValue {
        let request = try TransactionEventRequest(json: payload)
        let stationId = request.transactionInfo.transactionId
        let store = core.tags.store
        let energy = request.meterValue.flatMap { $0.energyRegister(for: request.eventType) }
        // Stored before anything else; a Started event the bridge never saw is made up from the first event it
        // sees, so that no transaction is lost.
        var record = try await store.startTransaction(
            TransactionStart(
                chargePoint: cp, connectorId: request.evse?.id ?? 0, idTag: request.idToken?.idToken ?? "",
                meterStart: request.eventType == .started ? energy ?? 0 : 0, timestamp: request.timestamp,
                stationTransactionId: stationId))
        if request.eventType != .started, !record.isResend {
            core.logger.warning(
                "TransactionEvent of a transaction the bridge did not see start; stored from this event",
                metadata: ["ocpp.chargePointId": .string(cp), "ocpp.transactionId": .string(stationId)])
        }
        if let idToken = request.idToken, record.idTag.isEmpty, let identified = try await store.identifyTransaction(id: record.id, idTag: idToken.idToken) {
            // The driver was identified after the transaction started (plugged in first).
            record.idTag = identified.idTag
        }
        extra["evseId"] = .int(Int64(request.evse?.id ?? record.connectorId))
        extra["meterStart"] = .int(record.meterStart)
        var meterStop: Int64?
        if request.eventType == .ended {
            let stop = energy ?? record.meterStart
            meterStop = stop
            extra["meterStop"] = .int(stop)
            _ = try await store.stopTransaction(
                TransactionStop(
                    transactionId: record.id, idTag: request.idToken?.idToken, meterStop: stop, timestamp: request.timestamp,
                    reason: request.transactionInfo.stoppedReason?.rawValue ?? "Local",
                    transactionData: request.meterValue.map { JSONValue.array($0.map(\.json)).jsonText }))
        }

        // A resent Started event is not delivered upstream a second time.
        let resentStart = record.isResend && request.eventType == .started
        var forwarded: JSONValue?
        if !resentStart {
            forwarded = await upstream.deliver(
                "TransactionEvent", payload, localTransactionId: nil, info: { info throws(PayloadError) in try IdTokenInfo(json: info).json })
        }
        guard let idToken = request.idToken else { return [:] }
        if let forwarded { return ["idTokenInfo": forwarded] }

        var neutral: [String: JSONValue] = [
            "idTag": .string(idToken.idToken), "transactionId": .string(stationId),
            "connectorId": .int(Int64(request.evse?.id ?? record.connectorId)),
        ]
        let decision: DecisionHandshake.Decision
        if request.eventType == .ended {
            let reason = request.transactionInfo.stoppedReason?.rawValue ?? "Local"
            neutral["meterStop"] = .int(meterStop ?? record.meterStart)
            neutral["reason"] = .string(reason)
            decision = await core.decide(
                .stopTransaction201, route: route, chargePoint: cp, payload: payload.withNeutralKeys(neutral),
                fields: [
                    ("TransactionId", .string(stationId)), ("IdTag", .string(idToken.idToken)),
                    ("MeterStop", .int(meterStop ?? record.meterStart)), ("Reason", .string(reason)),
                ])
        } else {
            neutral["meterStart"] = .int(record.meterStart)
            decision = await core.decide(
                .startTransaction201, route: route, chargePoint: cp, payload: payload.withNeutralKeys(neutral),
                fields: [
                    ("IdTag", .string(idToken.idToken)), ("IdTokenType", .string(idToken.type.rawValue)),
                    ("ConnectorId", .int(Int64(request.evse?.id ?? record.connectorId))),
                    ("MeterStart", .int(record.meterStart)), ("TransactionId", .string(stationId)),
                ])
        }
        return ["idTokenInfo": decision.idTokenInfo]
    }
}

extension DecisionHandshake.Kind {
    static let authorizationStatuses201 = AuthorizationStatusEnum.allValues
    static var authorize201: Self {
        Self(
            name: "Authorize", allowed: authorizationStatuses201, defaultStatus: "Invalid", optionalAnswers: idTagInfoParts,
            parentIdTagLimit: 36)
    }
    static var startTransaction201: Self {
        Self(
            name: "StartTransaction", allowed: authorizationStatuses201, defaultStatus: "Invalid", optionalAnswers: idTagInfoParts,
            parentIdTagLimit: 36)
    }
    static var stopTransaction201: Self {
        Self(
            name: "StopTransaction", allowed: authorizationStatuses201, defaultStatus: "Accepted", optionalAnswers: idTagInfoParts,
            parentIdTagLimit: 36)
    }
}

extension DecisionHandshake.Decision {
    /// The OCPP 2.0.1 idTokenInfo of this decision: `ExpiryDate` is the cache expiry, `ParentIdTag` the group.
    var idTokenInfo: JSONValue {
        var info: [String: JSONValue] = ["status": .string(status)]
        if let expiryDate { info["cacheExpiryDateTime"] = .string(OCPPDateTime.format(expiryDate)) }
        if let parentIdTag { info["groupIdToken"] = ["idToken": .string(parentIdTag), "type": "Central"] }
        return .object(info)
    }
}

extension JSONValue {
    /// The payload with the 1.6 names (`idTag`, `connectorId`, …) added where it does not have them, so that
    /// one script serves both versions (docs/ocpp201.md).
    func withNeutralKeys(_ neutral: [String: JSONValue]) -> JSONValue {
        guard case .object(var members) = self else { return self }
        for (key, value) in neutral where members[key] == nil { members[key] = value }
        return .object(members)
    }
}

extension Array where Element == MeterValue {
    /// The energy register in Wh: the `Energy.Active.Import.Register` sample without a phase (a missing
    /// measurand is that register), preferring the context of the event (`Transaction.Begin` for Started,
    /// `Transaction.End` for Ended), else the last one.
    func energyRegister(for event: TransactionEventEnum) -> Int64? {
        let samples = flatMap(\.sampledValue).filter {
            ($0.measurand?.rawValue ?? "Energy.Active.Import.Register") == "Energy.Active.Import.Register" && $0.phase == nil
        }
        let context = event == .started ? "Transaction.Begin" : event == .ended ? "Transaction.End" : "Sample.Periodic"
        guard let sample = samples.last(where: { $0.context?.rawValue == context }) ?? samples.last else { return nil }
        var wh = sample.value * pow(10, Double(sample.unitOfMeasure?.multiplier ?? 0))
        if sample.unitOfMeasure?.unit?.lowercased() == "kwh" { wh *= 1000 }
        guard wh.isFinite, abs(wh) < 9.0e15 else { return nil }
        return Int64(wh.rounded())
    }
}
