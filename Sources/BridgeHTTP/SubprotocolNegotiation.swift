import Foundation
import OCPPRPC

/// The outcome of `Sec-WebSocket-Protocol` negotiation.
public enum SubprotocolChoice: Sendable, Hashable {
    /// The charge point offered this supported protocol (the first such in its list).
    case offered(OCPPVersion)
    /// Nothing was offered: the configured fallback applies.
    case fallback(OCPPVersion)
    /// Protocols were offered but none is supported: OCPP-J says complete the handshake without the header
    /// and close at once.
    case unsupported([String])

    /// Picks the protocol for a charge point's `Sec-WebSocket-Protocol` header values (comma-separated lists,
    /// possibly several header lines).
    public static func negotiate(offered headerValues: [String], supported: [OCPPVersion], fallback: OCPPVersion) -> SubprotocolChoice {
        let tokens = headerValues.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !tokens.isEmpty else { return .fallback(fallback) }
        for token in tokens {
            if let version = supported.first(where: { $0.subprotocol.caseInsensitiveCompare(token) == .orderedSame }) {
                return .offered(version)
            }
        }
        return .unsupported(tokens)
    }
}

/// The charge point id of a request path: the last non-empty segment, percent-decoded
/// (`/ocpp/RDAM%7C123` is `RDAM|123`). Nil when there is none or it does not decode.
public func chargePointId(fromPath path: String) -> String? {
    let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
    guard let last = pathOnly.split(separator: "/").last else { return nil }
    guard let decoded = String(last).removingPercentEncoding, !decoded.isEmpty else { return nil }
    return decoded
}
