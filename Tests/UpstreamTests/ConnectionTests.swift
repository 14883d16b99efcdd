import Foundation
import NIOCore
import Testing
@testable import Upstream

/// Messages, pings and misbehaving servers after the upgrade.
@Suite(.timeLimit(.minutes(1)))
struct ConnectionTests {
    static func frame(_ opcode: UInt8, _ text: String, fin: Bool = true) -> [UInt8] {
        Array(RawConnectionHandler.serverFrame(opcode: opcode, payload: Array(text.utf8), fin: fin).readableBytesView)
    }

    @Test func closesWhenTheServerStopsAnsweringPings() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .ignorePings))
        defer { Task { await server.stop() } }
        let start = ContinuousClock.now
        let upstream = try await connect(server.url(), pingInterval: .milliseconds(300))
        let info = try await withTimeout(.seconds(10)) { await upstream.waitUntilClosed() }
        let elapsed = ContinuousClock.now - start
        #expect(info.code == .goingAway)
        #expect(info.initiator == .local)
        #expect(info.error?.contains("pong") == true)
        #expect(elapsed >= .milliseconds(500))  // not before the pong was due
        #expect(elapsed < .seconds(9))  // well before withTimeout's 10 s
    }

    @Test func staysConnectedWhileTheServerAnswersPings() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6"))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url(), pingInterval: .milliseconds(400))
        try await Task.sleep(for: .milliseconds(2_000))  // five ping periods
        upstream.send("still there")
        #expect(try await receive(1, from: upstream) == ["still there"])
        await upstream.close()
    }

    @Test func aggregatesFragmentsAndDropsBinaryMessages() async throws {
        let bytes = Self.frame(0x2, "binary") + Self.frame(0x1, "hel", fin: false) + Self.frame(0x0, "lo") + Self.frame(0x1, "next")
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .send(bytes)))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url())
        #expect(try await receive(2, from: upstream) == ["hello", "next"])
        await upstream.close()
    }

    @Test func answersServerPings() async throws {
        // The server pings before the first message; a pong must not disturb the message order.
        let bytes = Self.frame(0x9, "are you there") + Self.frame(0x1, "after ping")
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .send(bytes)))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url())
        #expect(try await receive(1, from: upstream) == ["after ping"])
        await upstream.close()
    }

    @Test(arguments: [false, true])
    func closesWith1009OnAnOversizedMessage(fragmented: Bool) async throws {
        let big = String(repeating: "x", count: 1500)
        let bytes = fragmented ? Self.frame(0x1, big, fin: false) + Self.frame(0x0, big) : Self.frame(0x1, big + big)
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .send(bytes)))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url(), maxMessageSize: 2000)
        let info = try await withTimeout { await upstream.waitUntilClosed() }
        #expect(info.code == .messageTooLarge, "\(info)")
        #expect(try await receive(1, from: upstream).isEmpty)
    }

    @Test func closesWith1007OnInvalidUTF8() async throws {
        let bytes = Array(RawConnectionHandler.serverFrame(opcode: 0x1, payload: [0x66, 0xC3, 0x28]).readableBytesView)
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .send(bytes)))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url())
        let info = try await withTimeout { await upstream.waitUntilClosed() }
        #expect(info.code == .dataInconsistentWithMessage)
        #expect(try await receive(1, from: upstream).isEmpty)
    }

    @Test func survivesGarbageAfterThe101() async throws {
        let garbage = Array("HTTP/1.1 200 OK\r\nthis is not a websocket frame\r\n\r\n".utf8)
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6", then: .send(garbage)))
        defer { Task { await server.stop() } }
        do {
            let upstream = try await connect(server.url())
            let info = try await withTimeout { await upstream.waitUntilClosed() }
            #expect(info.initiator != .remote)
        } catch let error as UpstreamConnectError {
            #expect(error.kind == .handshakeFailed)
        }
    }

    @Test func sendAfterCloseIsIgnored() async throws {
        let server = try await RawServer.start(.switching(connection: "Upgrade", subprotocol: "ocpp1.6"))
        defer { Task { await server.stop() } }
        let upstream = try await connect(server.url())
        await upstream.close(code: .goingAway, reason: "shutting down")
        upstream.send("too late")
        let info = await upstream.waitUntilClosed()
        #expect(info == UpstreamCloseInfo(code: .goingAway, reason: "shutting down", initiator: .local))
    }
}
