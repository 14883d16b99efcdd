import Foundation
import Logging
import OCPP16
import OCPPRPC
import TagStore

/// The bridge without its sockets: charge point sessions, the Central System, the tags and the commands.
/// The WebSocket and HTTP layers drive it; tests drive it directly.
public final class Bridge: Sendable {
    public let configuration: BridgeConfiguration
    public let tags: TagService
    public let registry: ChargePointRegistry
    public let centralSystem16: CentralSystem16
    /// Told of every decision request (the script engine registers here).
    public let decisionListeners = DecisionListeners()
    /// The upstream links of connected charge points (proxy mode).
    public let proxy = ProxyLinks()
    let connector: (any UpstreamConnector)?
    let logger: Logger

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
        self.centralSystem16 = CentralSystem16(
            tags: tags, mapping: mapping, registry: registry, configuration: configuration,
            decisionListeners: decisionListeners, proxy: proxy, logger: logger)
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

    /// The protocols the bridge speaks, in order of preference.
    public var supportedProtocols: [OCPPVersion] { [.v16] }

    /// Opens a session for a newly connected charge point, replacing any earlier connection with the same id.
    public func connect(chargePointId: String, version: OCPPVersion, connection: any ChargePointConnection) async -> ChargePointSession {
        let session = ChargePointSession(
            chargePointId: chargePointId, version: version, connectionNumber: registry.nextConnectionNumber(),
            connection: connection, handler: centralSystem16, logger: logger)
        if let old = registry.register(session) {
            logger.info("a new connection replaces the old one", metadata: ["ocpp.chargePointId": .string(chargePointId)])
            await old.close(.replaced)
        }
        await session.start()
        await linkUpstreams(for: session)
        let now = Date()
        tags.write(CommandTags.initialTags(chargePoint: chargePointId).filter { tags.tag($0.name) == nil })
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
        await session.closed()
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

    /// Sends a CSMS-initiated request to a charge point, validated first, and returns its answer.
    public func call(chargePoint: String, action: String, payload: JSONValue, timeout: Duration? = nil) async -> Result<JSONValue, CallFailure> {
        guard let descriptor = OCPP16Actions.descriptor(for: action) else {
            return .failure(CallFailure(.unknownAction, "unknown OCPP 1.6 action '\(action)'"))
        }
        guard descriptor.initiator.csmsMaySend else {
            return .failure(CallFailure(.unknownAction, "\(action) is sent by charge points, not by the Central System"))
        }
        do {
            try descriptor.validateOutgoingRequest(payload)
        } catch {
            return .failure(CallFailure(.invalidRequest, code: error.errorCode(for: .v16), error.errorDescription))
        }
        guard let session = registry.session(chargePoint) else {
            return .failure(CallFailure(.offline, "charge point '\(chargePoint)' is not connected"))
        }
        let result = await session.call(action: action, payload: payload, timeout: timeout ?? configuration.callTimeout)
        if case .success(let answer) = result {
            do {
                try descriptor.validateResponse(answer)
            } catch {
                // Liberal in what we accept: the answer is passed on, the deviation logged.
                logger.warning(
                    "charge point answered outside the schema",
                    metadata: ["ocpp.chargePointId": .string(chargePoint), "ocpp.action": .string(action), "ocpp.reason": .string(error.errorDescription)])
            }
        }
        return result
    }

    /// Closes every session (graceful shutdown).
    public func shutdown() async {
        for session in registry.sessions {
            await session.close(.shutdown)
            await disconnected(session)
        }
        try? await tags.store.flush()
    }
}
