import Logging
import OCPPRPC
import Synchronization

/// The upstream links of every connected charge point; empty when the bridge runs without upstreams.
public final class ProxyLinks: Sendable {
    private let links = Mutex<[String: [UpstreamLink]]>([:])
    /// Charge points whose decisions a failover secondary makes now.
    private let promoted = Mutex<Set<String>>([])

    public init() {}

    /// The links of a charge point, primary first.
    public func links(for chargePointId: String) -> [UpstreamLink] {
        links.withLock { $0[chargePointId] ?? [] }
    }

    /// The primary link of a charge point (the first configured upstream that serves it).
    public func primary(for chargePointId: String) -> UpstreamLink? {
        links(for: chargePointId).first { $0.isPrimary }
    }

    /// Whether the failover secondary decides for a charge point now.
    func isPromoted(_ chargePointId: String) -> Bool { promoted.withLock { $0.contains(chargePointId) } }

    func setPromoted(_ chargePointId: String, _ value: Bool) {
        promoted.withLock { set in
            if value { set.insert(chargePointId) } else { set.remove(chargePointId) }
        }
    }

    /// Installs a charge point's links and returns the ones they replace.
    func replace(_ chargePointId: String, with new: [UpstreamLink]) -> [UpstreamLink] {
        links.withLock { links in
            let old = links[chargePointId] ?? []
            links[chargePointId] = new.isEmpty ? nil : new
            return old
        }
    }
}
