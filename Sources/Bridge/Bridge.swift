import Foundation
import Logging
import OCPP16
import OCPP201
import OCPPRPC
import Synchronization
import TagStore

/// The bridge without its sockets: charge point sessions, the Central System, the tags and the commands.
/// The WebSocket and HTTP layers drive it; tests drive it directly.
public final class Bridge: Sendable {
    public let configuration: BridgeConfiguration
    public let tags: TagService
    public let registry: ChargePointRegistry
    public let centralSystem16: CentralSystem16
    public let centralSystem201: CentralSystem201
    /// Told of every decision request (the script engine registers here).
    public let decisionListeners = DecisionListeners()
    /// The upstream links of connected charge points (proxy mode).
    public let proxy = ProxyLinks()
    /// Who may connect, and the charge points' registrations.
    public let admission: Admission
    let connector: (any UpstreamConnector)?
    let logger: Logger
    /// The `remoteStartId`s of translated RemoteStartTransactions: counted up from the seconds since 2024, so
    /// that a restart does not reuse recent ones (2.0.1 ids are 32-bit integers on many stations).
    private let remoteStartIds = Atomic<Int>(max(1, Int(Date().timeIntervalSince1970) - 1_704_067_200))

    /// - Parameter connector: opens upstream connections; needed when `configuration.upstreams` is not empty.
    public init(
        configuration: BridgeConfiguration, store: TagStore, mapping: TagMapping, connector: (any UpstreamConnector)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.connector = connector
        self.logger = logger
        self.tags = TagService(store: store, logger: logger)
        self.registry = ChargePointRegistry()
        self.admission = Admission(configuration: configuration.security, store: store, logger: logger)
        self.centralSystem16 = CentralSystem16(
            tags: tags, mapping: mapping, registry: registry, configuration: configuration,
            decisionListeners: decisionListeners, proxy: proxy, admission: admission, logger: logger)
        self.centralSystem201 = CentralSystem201(
            tags: tags, mapping: mapping, registry: registry, configuration: configuration,
            decisionListeners: decisionListeners, proxy: proxy, admission: admission, logger: logger)
        // Nothing is connected at start: every `.Online` tag the bridge derives (charge points and their upstream
        // links) is false. Charge points known from an earlier run (they have a `.Protocol`) are listed until
        // they reconnect. Users' own tags are left alone.
        var offline: [TagWrite] = []
        for tag in store.tags(prefix: "") where tag.name.hasSuffix(".Online") && tag.access == .readOnly {
            if tag.value != .bool(false) { offline.append(TagWrite(name: tag.name, value: .bool(false))) }
            let id = String(tag.name.dropLast(".Online".count))
            guard let version = store.value("\(id).Protocol")?.textValue.flatMap(OCPPVersion.init(rawValue:)) else { continue }
            let lastSeen = store.value("\(id).LastSeen")?.textValue.flatMap(OCPPDateTime.parse)
            registry.remember(id, version: version, lastSeen: lastSeen)
        }
        tags.write(offline)
    }

    /// Opens a session for a newly connected charge point, replacing any earlier connection with the same id.
    public func connect(chargePointId: String, version: OCPPVersion, connection: any ChargePointConnection) async -> ChargePointSession {
        let session = ChargePointSession(
            chargePointId: chargePointId, version: version, connectionNumber: registry.nextConnectionNumber(),
            connection: connection, handler: version == .v201 ? centralSystem201 : centralSystem16,
            limits: configuration.sessionLimits, logger: logger)
        if let old = registry.register(session) {
            logger.info("a new connection replaces the old one", metadata: ["ocpp.chargePointId": .string(chargePointId)])
            old.close(.replaced)
        }
        session.start()
        await linkUpstreams(for: session)
        let now = Date()
        tags.write(CommandTags.initialTags(chargePoint: chargePointId).filter { tags.tag($0.name) == nil })
        if let registration = try? admission.registration(of: chargePointId) {
            tags.write([Self.registrationTag(chargePointId, registration.status)])
        }
        tags.write([
            TagWrite(name: "\(chargePointId).Online", value: .bool(true), timestamp: now),
            TagWrite(name: "\(chargePointId).Protocol", value: .string(version.rawValue), timestamp: now),
            TagWrite(name: "\(chargePointId).LastSeen", value: .string(OCPPDateTime.format(now)), timestamp: now),
        ])
        logger.info(
            "charge point connected",
            metadata: ["ocpp.chargePointId": .string(chargePointId), "ocpp.protocol": .string(version.rawValue)])
        return session
    }

    /// Ends a session whose connection closed.
    public func disconnected(_ session: ChargePointSession) async {
        session.closed()
        if registry.unregister(session) {
            for link in proxy.replace(session.chargePointId, with: []) { await link.stop() }
            tags.write([TagWrite(name: "\(session.chargePointId).Online", value: .bool(false))])
            logger.info("charge point disconnected", metadata: ["ocpp.chargePointId": .string(session.chargePointId)])
        }
    }

    /// Opens a link to every upstream that serves the charge point (the first configured is the primary),
    /// replacing the links of an earlier connection.
    func linkUpstreams(for session: ChargePointSession) async {
        guard let connector else { return }
        let id = session.chargePointId
        let serving = configuration.upstreams.filter { $0.serves(id) }
        let links = serving.enumerated().map { index, upstream in
            UpstreamLink(
                upstream: upstream, isPrimary: index == 0, chargePointId: id, version: session.version,
                connector: connector, tags: tags, callTimeout: configuration.callTimeout,
                replayInterval: configuration.replayInterval, logger: logger
            ) { [weak self] action, payload in
                guard let self else { return .failure(CallFailure(.offline, "the bridge is shutting down")) }
                return await self.call(chargePoint: id, action: action, payload: payload)
            }
        }
        for old in proxy.replace(id, with: links) { await old.stop() }
        for link in links { await link.start() }
    }

    /// Sends a CSMS-initiated request to a charge point, translated to its protocol version where the names
    /// differ (docs/ocpp201.md) and validated first, and returns its answer.
    public func call(chargePoint: String, action: String, payload: JSONValue, timeout: Duration? = nil) async -> Result<JSONValue, CallFailure> {
        let session = registry.session(chargePoint)
        // An offline charge point known from before is validated against its last version.
        let version = session?.version ?? registry.info(chargePoint)?.version ?? .v16
        let request: (action: String, payload: JSONValue)
        switch await translate(action: action, payload: payload, for: version, chargePoint: chargePoint) {
        case .success(let translated): request = translated
        case .failure(let failure): return .failure(failure)
        }
        let descriptors = version == .v201 ? OCPP201Actions.descriptor(for:) : OCPP16Actions.descriptor(for:)
        guard let descriptor = descriptors(request.action) else {
            return .failure(CallFailure(.unknownAction, "unknown OCPP \(version == .v201 ? "2.0.1" : "1.6") action '\(action)'"))
        }
        guard descriptor.initiator.csmsMaySend else {
            return .failure(CallFailure(.unknownAction, "\(action) is sent by charge points, not by the Central System"))
        }
        do {
            try descriptor.validateOutgoingRequest(request.payload)
        } catch {
            return .failure(CallFailure(.invalidRequest, code: error.errorCode(for: version), error.errorDescription))
        }
        guard let session else {
            return .failure(CallFailure(.offline, "charge point '\(chargePoint)' is not connected"))
        }
        let result = await session.call(action: request.action, payload: request.payload, timeout: timeout ?? configuration.callTimeout)
        if case .success(let answer) = result {
            do {
                try descriptor.validateResponse(answer)
            } catch {
                // Liberal in what we accept: the answer is passed on, the deviation logged.
                logger.warning(
                    "charge point answered outside the schema",
                    metadata: ["ocpp.chargePointId": .string(chargePoint), "ocpp.action": .string(request.action), "ocpp.reason": .string(error.errorDescription)])
            }
            if version == .v201, request.action == "GetVariables" { recordVariables(chargePoint, answer) }
        }
        return result
    }

    /// The request as the charge point's version names it.
    private func translate(
        action: String, payload: JSONValue, for version: OCPPVersion, chargePoint: String
    ) async -> Result<(action: String, payload: JSONValue), CallFailure> {
        // A 1.6 transaction id sent to a 2.0.1 charge point is the bridge's id of one of its transactions.
        var stationIds: [Int64: String] = [:]
        if version == .v201, action == "RemoteStopTransaction", let id = payload["transactionId"]?.intValue,
            let record = try? await tags.store.transaction(id: id), record.chargePoint == chargePoint
        {
            stationIds[id] = record.stationTransactionId
        }
        do {
            let translated = try VersionTranslation.translate(
                action: action, payload: payload, to: version, stationTransactionId: { stationIds[$0] },
                makeRemoteStartId: { remoteStartIds.add(1, ordering: .relaxed).newValue })
            return .success(translated ?? (action, payload))
        } catch {
            return .failure(CallFailure(.invalidRequest, error.reason))
        }
    }

    /// Writes the accepted results of a 2.0.1 GetVariables answer as `{cp}.Variables.…` tags (the device model).
    private func recordVariables(_ cp: String, _ answer: JSONValue) {
        guard case .array(let results)? = answer["getVariableResult"] else { return }
        let now = Date()
        var writes: [TagWrite] = []
        for result in results where result["attributeStatus"]?.stringValue == "Accepted" {
            guard (result["attributeType"]?.stringValue ?? "Actual") == "Actual",
                let value = result["attributeValue"]?.stringValue,
                let component = result["component"]?["name"]?.stringValue,
                let variable = result["variable"]?["name"]?.stringValue
            else { continue }
            var name = "\(cp).Variables.\(component)"
            if let instance = result["component"]?["instance"]?.stringValue { name += ".\(instance)" }
            name += ".\(variable)"
            if let instance = result["variable"]?["instance"]?.stringValue { name += ".\(instance)" }
            writes.append(TagWrite(name: name, value: .string(value), timestamp: now))
        }
        tags.write(writes)
    }

    /// Closes every session (graceful shutdown).
    public func shutdown() async {
        for session in registry.sessions {
            session.close(.shutdown)
            await disconnected(session)
        }
        try? await tags.store.flush()
    }
}
