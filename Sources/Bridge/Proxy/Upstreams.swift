import Logging
import OCPP16
import OCPPRPC

/// A charge point's upstream links as one CentralSystem16 message sees them: decisions go to the primary
/// when the route is `forward`; every message is copied to every upstream; transaction messages travel
/// store-and-forward. With no links, every method does nothing.
struct Upstreams {
    let links: [UpstreamLink]
    let forward: Bool
    let logger: Logger

    var primary: UpstreamLink? { links.first { $0.isPrimary } }
    var secondaries: [UpstreamLink] { links.filter { !$0.isPrimary } }

    /// Sends a copy of a message the bridge answers itself to every connected upstream.
    func copy(_ action: String, _ payload: JSONValue) async {
        for link in links { await link.post(action: action, payload: payload) }
    }

    /// Forwards a decision (Authorize, DataTransfer) to the primary and returns its answer if it answered
    /// within the call timeout with a payload that satisfies the schema; nil lets the bridge decide.
    /// Secondaries get copies.
    func decide<Response: OCPPPayload>(_ action: String, _ payload: JSONValue, valid: Response.Type) async -> JSONValue? {
        for link in secondaries { await link.post(action: action, payload: payload) }
        guard forward, let primary else {
            if let primary { await primary.post(action: action, payload: payload) }
            return nil
        }
        switch await primary.call(action: action, payload: payload) {
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

    /// Delivers a StartTransaction or StopTransaction to every upstream (store-and-forward) and returns the
    /// primary's idTagInfo when the route is `forward` and it answered; nil lets the bridge decide.
    func deliver(_ action: String, _ payload: JSONValue, localTransactionId: Int64) async -> JSONValue? {
        for link in secondaries { link.deliverLater(action: action, payload: payload, localTransactionId: localTransactionId) }
        guard let primary else { return nil }
        guard forward else {
            primary.deliverLater(action: action, payload: payload, localTransactionId: localTransactionId)
            return nil
        }
        guard let answer = await primary.deliver(action: action, payload: payload, localTransactionId: localTransactionId),
            let info = answer["idTagInfo"]
        else { return nil }
        do {
            return try IdTagInfo(json: info).json
        } catch {
            logger.warning("upstream answered an idTagInfo outside the schema; deciding locally", metadata: ["ocpp.action": .string(action)])
            return nil
        }
    }

    /// Delivers a transaction MeterValues to every upstream without waiting.
    func deliverLater(_ action: String, _ payload: JSONValue, localTransactionId: Int64) {
        for link in links { link.deliverLater(action: action, payload: payload, localTransactionId: localTransactionId) }
    }
}
