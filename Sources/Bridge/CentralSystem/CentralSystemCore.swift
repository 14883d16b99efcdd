import Foundation
import Logging
import OCPPRPC
import TagStore

/// What the Central Systems of both OCPP versions share: validation, routing, the upstreams, the decision
/// handshake and the mapping of every message to tags. `CentralSystem16` and `CentralSystem201` only say
/// how each of their actions is answered.
struct CentralSystemCore: Sendable {
    let version: OCPPVersion
    let tags: TagService
    let mapping: TagMapping
    let registry: ChargePointRegistry
    let configuration: BridgeConfiguration
    let handshake: DecisionHandshake
    let proxy: ProxyLinks
    let admission: Admission
    let logger: Logger

    init(
        version: OCPPVersion, tags: TagService, mapping: TagMapping, registry: ChargePointRegistry,
        configuration: BridgeConfiguration, decisionListeners: DecisionListeners, proxy: ProxyLinks, admission: Admission,
        logger: Logger
    ) {
        self.admission = admission
        self.version = version
        self.tags = tags
        self.mapping = mapping
        self.registry = registry
        self.configuration = configuration
        self.handshake = DecisionHandshake(
            tags: tags, timeout: configuration.decisionTimeout, listeners: decisionListeners, logger: logger)
        self.proxy = proxy
        self.logger = logger
    }

    /// How a version's Central System answers one validated CALL: given the action, the payload, the charge
    /// point, the route and the upstreams; it may add values for the mapping rules to `extra`.
    typealias Answer = (
        _ action: String, _ payload: JSONValue, _ chargePoint: String, _ route: Route, _ upstream: Upstreams,
        _ extra: inout [String: JSONValue]
    ) async throws -> JSONValue

    /// Validates a charge point's CALL against `descriptor`, answers BootNotification and Heartbeat itself and
    /// has `answer` answer the rest, and maps the CALL and its answer to tags.
    func handle(
        action: String, payload: JSONValue, session: ChargePointSession, descriptor: ActionDescriptor?, answer: Answer
    ) async -> Result<JSONValue, RPCError> {
        // Under a flood that SQLite cannot commit as fast as it comes, the answer waits for the queue to drain:
        // the charge points slow down instead of the queue growing (docs/performance.md).
        await tags.waitForRoom()
        let cp = session.chargePointId
        let now = Date()
        let nowText = OCPPDateTime.format(now)
        if let error = admit(action, payload, chargePoint: cp, descriptor: descriptor, at: now) { return .failure(error) }
        var extra: [String: JSONValue] = [:]
        let response: JSONValue
        do {
            let (route, upstream) = upstreams(for: cp, action: action)
            let pending = admission.isPending(cp)
            if let own = ownAnswer(action, pending: pending, chargePoint: cp, at: nowText) {
                guard case .success(let answer) = own else { return own }
                // BootNotification and Heartbeat go upstream too, once the charge point is accepted.
                if !pending { await upstream.copy(action, payload) }
                response = answer
            } else {
                response = try await answer(action, payload, cp, route, upstream, &extra)
            }
        } catch {
            return .failure(failed(action, chargePoint: cp, error))
        }
        return .success(mapped(action, payload, response: response, extra: extra, chargePoint: cp, at: now, nowText))
    }

    /// Logs a CALL the bridge could not answer; the CALLERROR to answer.
    private func failed(_ action: String, chargePoint cp: String, _ error: any Error) -> RPCError {
        logger.error(
            "could not answer a CALL",
            metadata: ["ocpp.chargePointId": .string(cp), "ocpp.action": .string(action), "error": .string("\(error)")])
        return RPCError(.internalError, "the bridge could not process \(action)")
    }

    /// `handle`'s answer, without a task, for a CALL that needs none: the write queue has room, the charge point
    /// has no upstream to copy to or ask, and the bridge answers the action alone (BootNotification, Heartbeat, or
    /// one of the notifications a version `acknowledges` with an empty answer: `.now`) or through the tag
    /// handshake alone (an action the version has a `decision` plan for: `.later`, from the decider's thread).
    /// nil otherwise, before anything was done.
    func answerWithoutTask(
        action: String, payload: JSONValue, session: ChargePointSession, descriptor: ActionDescriptor?,
        acknowledges: (String) -> Bool, decision: DecisionPlan.Make?,
        later: @escaping @Sendable (Result<JSONValue, RPCError>) -> Void
    ) -> TasklessAnswer? {
        let cp = session.chargePointId
        let pending = admission.isPending(cp)
        let alone = pending || action == "BootNotification" || action == "Heartbeat" || acknowledges(action)
        guard alone || decision != nil, tags.hasRoom, proxy.links(for: cp).isEmpty else { return nil }
        let now = Date()
        let nowText = OCPPDateTime.format(now)
        if let error = admit(action, payload, chargePoint: cp, descriptor: descriptor, at: now) { return .now(.failure(error)) }
        guard !alone, let decision else {
            let own = ownAnswer(action, pending: pending, chargePoint: cp, at: nowText) ?? .success([:])
            guard case .success(let response) = own else { return .now(own) }
            return .now(.success(mapped(action, payload, response: response, extra: [:], chargePoint: cp, at: now, nowText)))
        }
        let plan: DecisionPlan
        do {
            plan = try decision(payload)
        } catch {
            return .now(.failure(failed(action, chargePoint: cp, error)))
        }
        let route = configuration.routing.route(for: action, hasUpstream: false)
        decide(plan.kind, route: route, chargePoint: cp, payload: plan.payload, fields: plan.fields) { decided in
            let response = plan.answer(decided)
            later(.success(mapped(action, payload, response: response, extra: [:], chargePoint: cp, at: now, nowText)))
        }
        return .later
    }

    /// Notes the charge point as seen and checks the CALL: a known action, one a charge point may send, with a
    /// payload its schema accepts. The error to answer, or nil.
    private func admit(
        _ action: String, _ payload: JSONValue, chargePoint cp: String, descriptor: ActionDescriptor?, at now: Date
    ) -> RPCError? {
        registry.touch(cp, at: now)
        guard let descriptor else {
            return RPCError(.notImplemented, "unknown action '\(action)'")
        }
        guard descriptor.initiator.chargePointMaySend else {
            return RPCError(.notSupported, "\(action) is sent by the Central System, not by a charge point")
        }
        do {
            try descriptor.validateRequest(payload)
        } catch {
            return RPCError(error, version: version)
        }
        return nil
    }

    /// What the bridge answers alone, whatever the route: a charge point waiting for an operator gets Pending to
    /// its BootNotification and a SecurityError to anything else (docs/security.md); BootNotification and
    /// Heartbeat are answered alike in both versions. nil for any other action.
    private func ownAnswer(_ action: String, pending: Bool, chargePoint cp: String, at now: String) -> Result<JSONValue, RPCError>? {
        switch (action, pending) {
        case ("BootNotification", true):
            .success([
                "status": "Pending", "currentTime": .string(now),
                "interval": .int(Int64(configuration.security.pendingInterval)),
            ])
        case (_, true):
            .failure(RPCError(.securityError, "charge point '\(cp)' is pending: an operator has not accepted it yet"))
        case ("BootNotification", false):
            .success([
                "status": "Accepted", "currentTime": .string(now),
                "interval": .int(Int64(configuration.heartbeatInterval)),
            ])
        case ("Heartbeat", false):
            .success(["currentTime": .string(now)])
        default:
            nil
        }
    }

    /// Queues the tag writes of a CALL and its answer (the mapping rules, and `LastSeen`); returns the answer.
    private func mapped(
        _ action: String, _ payload: JSONValue, response: JSONValue, extra: [String: JSONValue], chargePoint cp: String,
        at now: Date, _ nowText: String
    ) -> JSONValue {
        let context = MappingContext(
            chargePointId: cp, now: now, nowText: nowText, request: payload, response: response, extra: extra)
        var writes = mapping.tags(for: action, version: version, context: context).map { TagWrite(mapped: $0, timestamp: now) }
        writes.append(TagWrite(name: "\(cp).LastSeen", value: .string(nowText), timestamp: now))
        tags.write(writes)
        return response
    }

    /// The route of `action` and the charge point's upstream links as the message sees them.
    func upstreams(for cp: String, action: String) -> (route: Route, upstreams: Upstreams) {
        let links = proxy.links(for: cp)
        let route = configuration.routing.route(for: action, hasUpstream: !links.isEmpty)
        let upstreams = Upstreams(
            chargePointId: cp, links: links, forward: route == .forward, failover: configuration.failover, proxy: proxy,
            tags: tags, logger: logger)
        return (route, upstreams)
    }

    /// Decides through the tag handshake (routes `tags`, and `forward` when the upstream did not answer), or
    /// accepts (route `local`); the kind's default status is the configured one. `then` gets the decision on the
    /// decider's thread (at once for route `local`).
    func decide(
        _ kind: DecisionHandshake.Kind, route: Route, chargePoint cp: String, payload: JSONValue, fields: [(String, TagValue)],
        then: @escaping @Sendable (DecisionHandshake.Decision) -> Void
    ) {
        switch route {
        case .tags, .forward:
            var kind = kind
            let defaults = configuration.decisionDefaults
            switch kind.name {
            case "Authorize": kind.defaultStatus = defaults.authorize
            case "StartTransaction": kind.defaultStatus = defaults.startTransaction
            case "StopTransaction": kind.defaultStatus = defaults.stopTransaction
            default: kind.defaultStatus = defaults.dataTransfer
            }
            handshake.decide(chargePoint: cp, kind: kind, fields: fields, payload: payload, then: then)
        case .local:
            // Answered by the bridge alone: everything is accepted.
            then(DecisionHandshake.Decision(status: "Accepted", data: nil, timedOut: false))
        }
    }

    /// `decide(_:route:chargePoint:payload:fields:then:)`, waited for.
    func decide(
        _ kind: DecisionHandshake.Kind, route: Route, chargePoint cp: String, payload: JSONValue, fields: [(String, TagValue)]
    ) async -> DecisionHandshake.Decision {
        await withCheckedContinuation { continuation in
            decide(kind, route: route, chargePoint: cp, payload: payload, fields: fields) { continuation.resume(returning: $0) }
        }
    }

    /// The answer of a `plan`ned decision, waited for.
    func decide(_ plan: DecisionPlan, route: Route, chargePoint cp: String) async -> JSONValue {
        plan.answer(await decide(plan.kind, route: route, chargePoint: cp, payload: plan.payload, fields: plan.fields))
    }

    /// Answers a DataTransfer through the upstream or the handshake, the same in both versions.
    func dataTransfer<Response: OCPPPayload>(
        _ payload: JSONValue, route: Route, chargePoint cp: String, upstream: Upstreams, valid: Response.Type
    ) async -> JSONValue {
        if let answer = await upstream.decide("DataTransfer", payload, valid: valid) { return answer }
        return await decide(.dataTransfer(payload), route: route, chargePoint: cp)
    }
}

/// A CALL the bridge answers through the tag handshake alone: the kind of decision, the payload scripts see, the
/// request fields, and how the decision becomes the answer. Both ways of answering (the task and
/// `answerWithoutTask`) build the answer from the same plan.
struct DecisionPlan: Sendable {
    /// Makes the plan of a validated payload; throws where the payload cannot be read as its type.
    typealias Make = @Sendable (JSONValue) throws -> DecisionPlan

    var kind: DecisionHandshake.Kind
    var payload: JSONValue
    var fields: [(String, TagValue)]
    var answer: @Sendable (DecisionHandshake.Decision) -> JSONValue

    /// The plan of an action the bridge decides through the handshake alone when no upstream is asked, given
    /// the version's plan for Authorize; nil for the other actions.
    static func make(for action: String, authorize: @escaping Make) -> Make? {
        switch action {
        case "Authorize": authorize
        case "DataTransfer": dataTransfer
        default: nil
        }
    }

    /// A DataTransfer's decision; the same in both versions but for the type of `data` (1.6: a string; 2.0.1:
    /// any JSON, passed to the tags as its text).
    static func dataTransfer(_ payload: JSONValue) -> DecisionPlan {
        let data: String
        switch payload["data"] {
        case .string(let text)?: data = text
        case nil, .null?: data = ""
        case let other?: data = other.jsonText
        }
        return DecisionPlan(
            kind: .dataTransfer, payload: payload,
            fields: [
                ("VendorId", .string(payload["vendorId"]?.stringValue ?? "")),
                ("MessageId", .string(payload["messageId"]?.stringValue ?? "")),
                ("Data", .string(data)),
            ],
            answer: { decision in
                var answer: [String: JSONValue] = ["status": .string(decision.status)]
                if let data = decision.data?.textValue, !data.isEmpty { answer["data"] = .string(data) }
                return .object(answer)
            })
    }
}
