import Foundation
import OCPPRPC
import Testing

@testable import BridgeHTTP

/// The WebSocket upgrade as chargers really send it.
@Suite(.timeLimit(.minutes(2))) struct HandshakeHeaderTests {
    @Test(arguments: ["Upgrade", "upgrade", "Upgrade, Keep-Alive", "keep-alive, Upgrade", "Keep-Alive,Upgrade", "  keep-alive ,  UPGRADE  "])
    func anyConnectionHeaderWithTheUpgradeTokenIsAccepted(connection: String) async throws {
        try await LiveBridge.run { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(path: "/ocpp/CP-HDR", headers: ["Connection: \(connection)", "Sec-WebSocket-Protocol: ocpp1.6"]))
            let head = try await socket.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(connection): \(head)")
            #expect(head.lowercased().contains("sec-websocket-protocol: ocpp1.6"))
        }
    }

    @Test func theFirstSupportedOfferedProtocolWins() async throws {
        try await LiveBridge.run { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(
                path: "/ocpp/CP-OFFER", headers: ["Connection: Upgrade", "Sec-WebSocket-Protocol: ocpp2.1, ocpp1.6", "Sec-WebSocket-Protocol: ocpp1.5"]))
            let head = try await socket.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"))
            #expect(head.lowercased().contains("sec-websocket-protocol: ocpp1.6"))
        }
    }

    @Test func noOfferedProtocolSupportedCompletesTheHandshakeAndClosesWith1002() async throws {
        try await LiveBridge.run { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(path: "/ocpp/CP-NOPE", headers: ["Connection: Upgrade", "Sec-WebSocket-Protocol: ocpp1.2"]))
            let head = try await socket.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"))
            #expect(!head.lowercased().contains("sec-websocket-protocol"))
            let frame = try #require(await socket.readSome())
            // A close frame (opcode 8) with status 1002.
            #expect(frame.count >= 4)
            #expect(frame[0] & 0x0F == 8)
            #expect(UInt16(frame[2]) << 8 | UInt16(frame[3]) == 1002)
            #expect(live.bridge.registry.info("CP-NOPE") == nil)
        }
    }

    @Test func noProtocolOfferedAtAllUsesTheFallback() async throws {
        try await LiveBridge.run { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(path: "/ocpp/CP-NONE", headers: ["Connection: Upgrade"]))
            #expect(try await socket.readHead().hasPrefix("HTTP/1.1 101"))
            let http = HTTP(port: live.apiPort)
            #expect(try await http.waitForTag("CP-NONE.Protocol") { $0 != nil } == "ocpp1.6")
        }
    }

    @Test func aPathWithoutAnIdIsRefused() async throws {
        try await LiveBridge.run { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(path: "/", headers: ["Connection: Upgrade", "Sec-WebSocket-Protocol: ocpp1.6"]))
            #expect(try await socket.readHead().hasPrefix("HTTP/1.1 400"))
        }
    }

    @Test func negotiation() {
        let both: [OCPPVersion] = [.v201, .v16]
        func choose(_ offered: [String], _ preference: [OCPPVersion] = both, alias: Bool = true) -> SubprotocolChoice {
            SubprotocolChoice.negotiate(offered: offered, preference: preference, treatOcpp20As201: alias, fallback: .v16)
        }
        #expect(choose(["ocpp1.6, ocpp2.0.1"]) == .offered(.v201, token: "ocpp2.0.1"))
        #expect(choose(["ocpp1.6", "ocpp2.0.1"], [.v16, .v201]) == .offered(.v16, token: "ocpp1.6"))
        #expect(choose(["ocpp2.0.1, ocpp1.6"], [.v16]) == .offered(.v16, token: "ocpp1.6"))
        #expect(choose(["ocpp2.0.1"], [.v16]) == .unsupported(["ocpp2.0.1"]))
        #expect(choose(["OCPP1.6"]) == .offered(.v16, token: "OCPP1.6"))
        #expect(choose(["ocpp2.0"]) == .offered(.v201, token: "ocpp2.0"))
        #expect(choose(["ocpp2.0", "ocpp2.0.1"]) == .offered(.v201, token: "ocpp2.0.1"))
        #expect(choose(["ocpp2.0"], alias: false) == .unsupported(["ocpp2.0"]))
        #expect(choose(["ocpp2.0", "ocpp1.6"], alias: false) == .offered(.v16, token: "ocpp1.6"))
        #expect(choose([]) == .fallback(.v16))
        #expect(choose([" , "]) == .fallback(.v16))
        #expect(choose(["ocpp1.5", "x"]) == .unsupported(["ocpp1.5", "x"]))
    }

    @Test func chargePointIdsComeFromTheLastPathSegment() {
        #expect(chargePointId(fromPath: "/ocpp/CP1") == "CP1")
        #expect(chargePointId(fromPath: "/ocpp/RDAM%7C123") == "RDAM|123")
        #expect(chargePointId(fromPath: "/ocpp/RDAM%20123/") == "RDAM 123")
        #expect(chargePointId(fromPath: "/steve/websocket/CentralSystemService/CP9?x=1") == "CP9")
        #expect(chargePointId(fromPath: "/") == nil)
        #expect(chargePointId(fromPath: "/ocpp/%E0%A4%A") == nil)
    }
}

/// Liveness: a peer that stops answering pings is closed and shown offline.
@Suite(.timeLimit(.minutes(2))) struct PingTests {
    @Test func aSilentPeerIsClosedAfterMissedPings() async throws {
        try await LiveBridge.run(ocppConfigure: { $0.pingInterval = .milliseconds(300) }) { live in
            let socket = try await RawClient.connect(port: live.ocppPort)
            try await socket.write(RawClient.upgradeRequest(path: "/ocpp/CP-DEAD", headers: ["Connection: Upgrade", "Sec-WebSocket-Protocol: ocpp1.6"]))
            #expect(try await socket.readHead().hasPrefix("HTTP/1.1 101"))
            let http = HTTP(port: live.apiPort)
            #expect(try await http.waitForTag("CP-DEAD.Online") { $0 == true } == true)
            // The raw socket never answers a ping.
            #expect(try await http.waitForTag("CP-DEAD.Online", timeout: .seconds(10)) { $0 == false } == false)
        }
    }
}
