/// A parsed `ws://` or `wss://` URL: what the client needs to connect and to write the request line.
struct WebSocketURL: Sendable, Hashable {
    /// True for `wss://`.
    var secure: Bool
    /// The host name or IP address, without IPv6 brackets.
    var host: String
    /// The TCP port (default 80 or 443).
    var port: Int
    /// The request target: path and query, at least `/`.
    var target: String

    /// The `Host` header value: the host (bracketed if IPv6) and the port when it is not the default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// True when the host is an IP literal (no SNI, no host name check).
    var hostIsIPAddress: Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// Parses a URL string, throwing `.invalidURL` with the reason.
    init(parsing string: String) throws(UpstreamConnectError) {
        let text = string.trimmingWhitespace()
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw .invalidURL("'\(string)' has no ws:// or wss:// scheme")
        }
        switch text[..<schemeEnd.lowerBound].lowercased() {
        case "ws": secure = false
        case "wss": secure = true
        default: throw .invalidURL("'\(string)': the scheme must be ws or wss")
        }
        var rest = text[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        guard !authority.contains("@") else {
            throw .invalidURL("'\(string)': credentials in the URL are not supported; configure them separately")
        }
        guard path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalidURL("'\(string)': the path must be percent-encoded ASCII")
        }
        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("'\(string)': unterminated IPv6 address") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                portPart = nil
            } else if after.hasPrefix(":") {
                portPart = after.dropFirst()
            } else {
                throw .invalidURL("'\(string)': unexpected text after the IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty, hostPart.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "/" }) else {
            throw .invalidURL("'\(string)': missing or invalid host")
        }
        host = String(hostPart)
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else {
                throw .invalidURL("'\(string)': invalid port '\(portPart)'")
            }
            self.port = port
        } else {
            port = secure ? 443 : 80
        }
        target = path
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
