import NIOHTTP1
import Testing
@testable import Upstream

/// Pure values: URLs, header tokens, errors, backoff.
struct ValueTests {
    @Test(arguments: [
        ("CP1", "CP1"), ("RDAM|123", "RDAM%7C123"), ("RDAM 123", "RDAM%20123"), ("a/b?c#d", "a%2Fb%3Fc%23d"),
        ("Ünit-1", "%C3%9Cnit-1"), ("A-z_0.9~", "A-z_0.9~"), ("100%", "100%25"),
    ])
    func percentEncodesChargePointIds(id: String, encoded: String) {
        #expect(UpstreamEndpoint(name: "x", url: "ws://csms:9000/ocpp").url(for: id) == "ws://csms:9000/ocpp/\(encoded)")
        #expect(UpstreamEndpoint(name: "x", url: "ws://csms:9000/ocpp/").url(for: id) == "ws://csms:9000/ocpp/\(encoded)")
    }

    @Test func parsesWebSocketURLs() throws {
        let plain = try WebSocketURL(parsing: "ws://csms.example:9000/ocpp/CP1?x=1")
        #expect(!plain.secure && plain.host == "csms.example" && plain.port == 9000 && plain.target == "/ocpp/CP1?x=1")
        #expect(plain.hostHeader == "csms.example:9000")
        let secure = try WebSocketURL(parsing: "WSS://csms.example")
        #expect(secure.secure && secure.host == "csms.example" && secure.port == 443 && secure.target == "/")
        #expect(secure.hostHeader == "csms.example")
        let v6 = try WebSocketURL(parsing: "ws://[::1]:8080/ocpp")
        #expect(v6.host == "::1")
        #expect(v6.hostHeader == "[::1]:8080")
        #expect(v6.hostIsIPAddress)
        #expect(try WebSocketURL(parsing: "ws://127.0.0.1/").hostIsIPAddress)
        #expect(!plain.hostIsIPAddress)
    }

    @Test(arguments: [
        ("Upgrade", true), ("upgrade", true), ("keep-alive, Upgrade", true), ("Upgrade,Keep-Alive", true),
        ("  Keep-Alive ,  UPGRADE  ", true), ("keep-alive", false), ("upgraded", false), ("", false),
    ])
    func findsUpgradeInConnectionTokenLists(value: String, allowed: Bool) {
        let headers = HTTPHeaders([("Connection", value)])
        #expect(HandshakeValidation.connectionAllowsUpgrade(headers) == allowed)
    }

    @Test func findsUpgradeAcrossRepeatedConnectionFields() {
        #expect(HandshakeValidation.connectionAllowsUpgrade(HTTPHeaders([("Connection", "keep-alive"), ("connection", "Upgrade")])))
    }

    @Test func encodesBase64() {
        #expect(Base64.encode(Array("".utf8)) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
    }

    @Test func describesErrors() {
        #expect(UpstreamConnectError.refused(status: 401, reason: "Unauthorized").description == "upgrade refused: HTTP 401 Unauthorized")
        #expect(UpstreamConnectError.timeout.description == "connect timed out")
        #expect(UpstreamConnectError.subprotocolMismatch("ocpp2.0.1").kind == .subprotocolMismatch)
        #expect(UpstreamConnectError.refused(status: 401, reason: "Unauthorized") != .refused(status: 403, reason: "Unauthorized"))
    }
}
