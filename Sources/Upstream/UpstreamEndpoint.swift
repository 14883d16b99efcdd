/// An upstream CSMS that charge point connections are proxied to, one WebSocket per charge point.
public struct UpstreamEndpoint: Sendable, Hashable {
    /// A name for logs and configuration.
    public var name: String
    /// The `ws://` or `wss://` base URL; the charge point id is appended as the last path segment.
    public var url: String
    /// The Basic auth user name, when the CSMS uses security profile 1 or 2.
    public var username: String?
    /// The Basic auth password, when the CSMS uses security profile 1 or 2.
    public var password: String?

    /// Creates an endpoint.
    public init(name: String, url: String, username: String? = nil, password: String? = nil) {
        self.name = name
        self.url = url
        self.username = username
        self.password = password
    }

    /// The connection URL for one charge point: the base URL, `/`, and the percent-encoded id.
    public func url(for chargePointId: String) -> String {
        var base = Substring(url)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/" + Self.percentEncodedPathSegment(chargePointId)
    }

    /// Percent-encodes everything except RFC 3986 unreserved characters (`RDAM|123` becomes `RDAM%7C123`).
    public static func percentEncodedPathSegment(_ segment: String) -> String {
        let hex: [Character] = Array("0123456789ABCDEF")
        var encoded = ""
        encoded.reserveCapacity(segment.utf8.count)
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.append(Character(Unicode.Scalar(byte)))
            default:
                encoded.append("%")
                encoded.append(hex[Int(byte >> 4)])
                encoded.append(hex[Int(byte & 0x0F)])
            }
        }
        return encoded
    }
}
