import Foundation
import Testing
@testable import Upstream

/// The upgrade against a hand-written server that answers exactly what each test needs.
@Suite(.timeLimit(.minutes(1)))
struct HandshakeTests {
    @Test(arguments: ["Upgrade", "upgrade", "keep-alive, Upgrade", "Upgrade,Keep-Alive", "  Keep-Alive ,  UPGRADE  ", "UPGRADE"])
    func acceptsAnyConnectionTokenListContainingUpgrade(connection: String) async throws {
        let server = try await RawServer.start(.switching(connection: connection, subprotocol: "ocpp1.6"))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url())
        #expect(upstream.subprotocol == "ocpp1.6")
        upstream.send("hello")
        #expect(try await receive(1, from: upstream) == ["hello"])
        await upstream.close()
        let info = await upstream.waitUntilClosed()
        #expect(info.initiator == .local)
        #expect(info.code == .normalClosure)
    }

    @Test func rejectsA101WhoseConnectionHeaderLacksUpgrade() async throws {
        let server = try await RawServer.start(.switching(connection: "keep-alive, upgraded", subprotocol: "ocpp1.6"))
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(server.url()) }
        #expect(error?.kind == .handshakeFailed)
    }

    @Test func sendsTheStandardUpgradeRequest() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6"))
        defer { Task { await server.stop() } }
        let url = UpstreamEndpoint(name: "csms", url: server.url("/ocpp/")).url(for: "RDAM|123")
        let upstream = try await connect(url, subprotocols: ["ocpp2.0.1", "ocpp1.6"], basicAuth: ("RDAM|123", "secret"))
        await upstream.close()
        let request = try #require(server.receivedRequests.first)
        let lines = request.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "GET /ocpp/RDAM%7C123 HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(server.port)"))
        #expect(lines.contains("Connection: Upgrade"))
        #expect(lines.filter { $0.lowercased().hasPrefix("connection:") }.count == 1)
        #expect(lines.contains("Upgrade: websocket"))
        #expect(lines.contains("Sec-WebSocket-Version: 13"))
        #expect(lines.contains("Sec-WebSocket-Protocol: ocpp2.0.1, ocpp1.6"))
        let credentials = Data("RDAM|123:secret".utf8).base64EncodedString()
        #expect(lines.contains("Authorization: Basic \(credentials)"))
        #expect(lines.contains { $0.hasPrefix("Sec-WebSocket-Key: ") })
    }

    @Test(arguments: [(401, "Unauthorized"), (404, "Not Found"), (400, "Bad Request")])
    func reportsTheStatusOfARefusedUpgrade(status: Int, reason: String) async throws {
        let server = try await RawServer.start(.raw("HTTP/1.1 \(status) \(reason)\r\nContent-Length: 0\r\n\r\n"))
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(server.url()) }
        #expect(error == .refused(status: status, reason: reason))
        #expect(error?.status == status)
        if status == 401 { #expect(error?.description == "upgrade refused: HTTP 401 Unauthorized") }
    }

    @Test func rejectsAWrongAcceptKey() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", wrongAccept: true))
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(server.url()) }
        #expect(error?.kind == .handshakeFailed)
        #expect(error?.description.contains("Sec-WebSocket-Accept") == true)
    }

    @Test func rejectsASubprotocolThatWasNotOffered() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp2.0.1"))
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(server.url(), subprotocols: ["ocpp1.6"]) }
        #expect(error == .subprotocolMismatch("ocpp2.0.1"))
    }

    @Test func connectsWithoutSubprotocolWhenTheServerChoosesNone() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: nil))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url(), subprotocols: ["ocpp1.6"])
        #expect(upstream.subprotocol == nil)
        await upstream.close()
    }

    @Test func reportsAnUnreachablePortQuickly() async throws {
        let server = try await RawServer.start(.silence)
        let url = server.url()
        await server.stop()
        let start = ContinuousClock.now
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(url, timeout: .seconds(30)) }
        #expect(error?.kind == .unreachable)
        #expect(ContinuousClock.now - start < .seconds(10), "not the 30 s timeout")
    }

    @Test func timesOutWhenTheServerNeverAnswers() async throws {
        let server = try await RawServer.start(.silence)
        defer { Task { await server.stop() } }
        let start = ContinuousClock.now
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(server.url(), timeout: .milliseconds(500)) }
        #expect(error == .timeout)
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(400))
        #expect(elapsed < .seconds(10))
    }

    @Test(arguments: ["http://127.0.0.1/ocpp", "ws://", "ws://127.0.0.1:99999/x", "127.0.0.1:9000", "ws://user:pw@host/x", "ws://host/a b"])
    func rejectsInvalidURLs(url: String) async throws {
        let error = await connectError { () async throws(UpstreamConnectError) in try await connect(url) }
        #expect(error?.kind == .invalidURL)
    }

    @Test func reportsATLSFailureAgainstAPlainServer() async throws {
        let server = try await RawServer.start(.rawOnFirstBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
        defer { Task { await server.stop() } }
        let error = await connectError { () async throws(UpstreamConnectError) in
            try await connect("wss://127.0.0.1:\(server.port)/ocpp/CP1")
        }
        #expect(error?.kind == .tls)
    }

    @Test func handlesAServerThatHangsUpRightAfterThe101() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .hangUp))
        defer { Task { await server.stop() } }
        do {
            let upstream = try await connect(server.url())
            let info = try await withTimeout { await upstream.waitUntilClosed() }
            #expect(info.initiator == .transport)
        } catch let error as UpstreamConnectError {
            #expect(error.kind == .handshakeFailed)
        }
    }
}
