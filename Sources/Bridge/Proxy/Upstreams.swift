import Logging
import OCPP16
import OCPPRPC
import TagStore

/// A charge point's upstream links as one message sees them: decisions go to the primary
/// when the route is `forward`; every message is copied to every upstream; transaction messages travel
/// store-and-forward. With no links, every method does nothing.
struct Upstreams {
    let chargePointId: String
    let links: [UpstreamLink]
    let forward: Bool
    let failover: Failover?
    let proxy: ProxyLinks
    let tags: TagService
    let logger: Logger

    var primary: UpstreamLink? { links.first { $0.isPrimary } }

    /// The upstream whose answers reach the charge point: the primary, or the failover secondary while the
    /// primary has been unreachable long enough (and, without failback, until the secondary fails too).
    func decider() async -> UpstreamLink? {
        guard let primary else { return nil }
        guard let failover, let backup = links.first(where: { $0.upstream.name == failover.to }), backup !== primary else {
            return primary
        }
        let primaryDown = await primary.unreachableFor
        if proxy.isPromoted(chargePointId) {
            let keep = await backup.isConnected && !(failover.failback && primaryDown == nil)
            if keep { return backup }
            proxy.setPromoted(chargePointId, false)
            announce(primary, because: "failback")
            return primary
        }
        if let primaryDown, primaryDown >= failover.after, await backup.isConnected {
            proxy.setPromoted(chargePointId, true)
            announce(backup, because: "failover")
            return backup
        }
        return primary
    }

    private func announce(_ link: UpstreamLink, because reason: String) {
        logger.notice("\(reason): \(link.upstream.name) decides now", metadata: ["ocpp.chargePointId": .string(chargePointId)])
        tags.write([TagWrite(name: "\(chargePointId).Upstream.Active", value: .string(link.upstream.name))])
    }

    /// Sends a copy of a message the bridge answers itself to every connected upstream.
    func copy(_ action: String, _ payload: JSONValue) async {
        for link in links { await link.post(action: action, payload: payload) }
    }

    /// Forwards a decision (Authorize, DataTransfer) to the primary and returns its answer if it answered
    /// within the call timeout with a payload that satisfies the schema; nil lets the bridge decide.
    /// Secondaries get copies.
    func decide<Response: OCPPPayload>(_ action: String, _ payload: JSONValue, valid: Response.Type) async -> JSONValue? {
        let decider = forward ? await decider() : nil
        for link in links where link !== decider { await link.post(action: action, payload: payload) }
        guard let decider else { return nil }
        switch await decider.call(action: action, payload: payload) {
        case .success(let answer):
            do {
                return try Response(json: answer).json
            } catch {
                logger.warning("upstream answered outside the schema; deciding locally", metadata: ["ocpp.action": .string(action), "ocpp.reason": .string(error.errorDescription)])
                return nil
            }
        case .failure(let failure):
            logger.info("upstream did not decide; deciding locally", metadata: ["ocpp.action": .string(action), "error": .string(failure.description)])
            return nil
        }
    }

    /// Delivers a transaction message (1.6 StartTransaction and StopTransaction, 2.0.1 TransactionEvent) to
    /// every upstream (store-and-forward) and returns the primary's `idTagInfo` (1.6) or `idTokenInfo` (2.0.1),
    /// checked by `info`, when the route is `forward` and it answered with one; nil lets the bridge decide.
    /// - Parameter localTransactionId: the bridge's id (1.6, rewritten to each upstream's); nil for 2.0.1.
    func deliver(
        _ action: String, _ payload: JSONValue, localTransactionId: Int64?,
        info: (JSONValue) throws(PayloadError) -> JSONValue
    ) async -> JSONValue? {
        let decider = forward ? await decider() : nil
        for link in links where link !== decider {
            link.deliverLater(action: action, payload: payload, localTransactionId: localTransactionId)
        }
        guard let decider,
            let answer = await decider.deliver(action: action, payload: payload, localTransactionId: localTransactionId),
            let answered = answer["idTagInfo"] ?? answer["idTokenInfo"]
        else { return nil }
        do {
            return try info(answered)
        } catch {
            logger.warning("upstream answered an idTagInfo outside the schema; deciding locally", metadata: ["ocpp.action": .string(action)])
            return nil
        }
    }

    /// Delivers a transaction MeterValues to every upstream without waiting.
    func deliverLater(_ action: String, _ payload: JSONValue, localTransactionId: Int64?) {
        for link in links { link.deliverLater(action: action, payload: payload, localTransactionId: localTransactionId) }
    }
}
