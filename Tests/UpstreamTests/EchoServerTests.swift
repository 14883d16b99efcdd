import Foundation
import Testing
import Upstream

/// Against a real Hummingbird WebSocket server.
@Suite(.timeLimit(.minutes(1)))
struct EchoServerTests {
    @Test func negotiatesOCPP16AndEchoesBothWays() async throws {
        try await EchoServer.run { server in
            let upstream = try await connect(server.url(), subprotocols: ["ocpp2.0.1", "ocpp1.6"])
            #expect(upstream.subprotocol == "ocpp1.6")
            #expect(try await receive(1, from: upstream) == ["welcome"])
            let messages = (1...20).map { #"[2,"\#($0)","Heartbeat",{}]"# }
            for message in messages { upstream.send(message) }
            #expect(try await receive(messages.count, from: upstream) == messages)
            await upstream.close()
            #expect(await upstream.waitUntilClosed().code == .normalClosure)
        }
    }

    @Test func carriesA200KilobyteMessage() async throws {
        try await EchoServer.run { server in
            let upstream = try await connect(server.url(), maxMessageSize: 1 << 20)
            _ = try await receive(1, from: upstream)
            let large = String(repeating: "0123456789", count: 20_000)
            upstream.send(large)
            #expect(try await receive(1, from: upstream) == [large])
            await upstream.close()
        }
    }

    @Test func serverSeesConnectionUpgradeAndBasicAuth() async throws {
        try await EchoServer.run { server in
            let url = UpstreamEndpoint(name: "csms", url: server.url("/ocpp")).url(for: "RDAM|123")
            let upstream = try await connect(url, basicAuth: ("RDAM|123", "s3cret"))
            await upstream.close()
            let seen = try #require(server.requests.first)
            #expect(seen.connection == ["Upgrade"])
            #expect(seen.authorization == "Basic " + Data("RDAM|123:s3cret".utf8).base64EncodedString())
            #expect(seen.path == "/ocpp/RDAM%7C123")
            #expect(seen.offered == ["ocpp1.6"])
        }
    }

    @Test func answersTheServersPings() async throws {
        // The server closes a peer that misses a pong after one or two periods; the client must outlive that.
        try await EchoServer.run(autoPing: .milliseconds(500)) { server in
            let upstream = try await connect(server.url())
            _ = try await receive(1, from: upstream)
            try await Task.sleep(for: .milliseconds(2_200))  // four ping periods
            upstream.send("alive")
            #expect(try await receive(1, from: upstream) == ["alive"])
            await upstream.close()
            #expect(await upstream.waitUntilClosed().initiator == .local)
        }
    }

    @Test func reportsAServerClose() async throws {
        try await EchoServer.run { server in
            let upstream = try await connect(server.url())
            _ = try await receive(1, from: upstream)
            upstream.send("please close")
            let info = try await withTimeout { await upstream.waitUntilClosed() }
            #expect(info.initiator == .remote)
            #expect(info.code == .normalClosure)
            #expect(info.reason == "bye")
            #expect(try await receive(1, from: upstream).isEmpty)
        }
    }

    @Test func connectsWithoutSubprotocolWhenNoneIsAcceptable() async throws {
        try await EchoServer.run { server in
            let upstream = try await connect(server.url(), subprotocols: ["ocpp2.0.1"])
            #expect(upstream.subprotocol == nil)
            await upstream.close()
        }
    }
}
