import Foundation
import OCPPRPC

/// The outcome of `Sec-WebSocket-Protocol` negotiation.
public enum SubprotocolChoice: Sendable, Hashable {
    /// The charge point offered `token`, which names this supported version; the handshake echoes `token`.
    case offered(OCPPVersion, token: String)
    /// Nothing was offered: the configured fallback applies.
    case fallback(OCPPVersion)
    /// Protocols were offered but none is supported: OCPP-J says complete the handshake without the header
    /// and close at once.
    case unsupported([String])

    /// Picks the protocol for a charge point's `Sec-WebSocket-Protocol` header values (comma-separated lists,
    /// possibly several header lines): of the versions offered, the one that comes first in `preference`,
    /// whatever order the charge point offered them in (docs/ocpp201.md).
    /// - Parameter treatOcpp20As201: whether the token `ocpp2.0` (sent by some early 2.0.1 firmware) names 2.0.1.
    public static func negotiate(
        offered headerValues: [String], preference: [OCPPVersion], treatOcpp20As201: Bool = true, fallback: OCPPVersion
    ) -> SubprotocolChoice {
        let tokens = headerValues.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !tokens.isEmpty else { return .fallback(fallback) }
        func version(of token: String) -> OCPPVersion? {
            if let version = OCPPVersion.allCases.first(where: { $0.subprotocol.caseInsensitiveCompare(token) == .orderedSame }) {
                return version
            }
            return treatOcpp20As201 && token.caseInsensitiveCompare("ocpp2.0") == .orderedSame ? .v201 : nil
        }
        for preferred in preference {
            // An exact token wins over the ocpp2.0 alias when a charge point offers both.
            let matching = tokens.filter { version(of: $0) == preferred }
            if let token = matching.first(where: { $0.caseInsensitiveCompare(preferred.subprotocol) == .orderedSame }) ?? matching.first {
                return .offered(preferred, token: token)
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
