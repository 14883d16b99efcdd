import NIOSSL
import TestTLS
import Testing
import Upstream

/// `wss://` against a local TLS server with a throwaway certificate.
@Suite(.timeLimit(.minutes(1)), .enabled(if: SelfSignedCertificate.opensslPath != nil, "needs the openssl command"))
struct TLSTests {
    @Test func connectsOverTLSWhenTheCertificateIsTrusted() async throws {
        let certificate = try await SelfSignedCertificate.make()
        let server = try await RawServer.start(.switching(connection: "keep-alive, Upgrade", subprotocol: "ocpp1.6"), tls: certificate.serverContext())
        defer { Task { await server.stop() } }
        let upstream = try await UpstreamConnection.connect(
            to: "wss://localhost:\(server.port)/ocpp/CP1", subprotocols: ["ocpp1.6"], basicAuth: ("CP1", "pw"),
            connectTimeout: .seconds(5), maxMessageSize: 1 << 20, pingInterval: nil,
            tlsConfiguration: certificate.clientConfiguration(), logger: testLogger())
        #expect(upstream.subprotocol == "ocpp1.6")
        upstream.send("secret hello")
        #expect(try await receive(1, from: upstream) == ["secret hello"])
        await upstream.close()
        #expect(server.receivedRequests.first?.contains("Host: localhost:\(server.port)") == true)
    }

    @Test func refusesAnUntrustedCertificate() async throws {
        let certificate = try await SelfSignedCertificate.make()
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6"), tls: certificate.serverContext())
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in
            try await connect("wss://localhost:\(server.port)/ocpp/CP1")
        }
        #expect(error?.kind == .tls)
        #expect(server.receivedRequests.isEmpty)
    }
}
