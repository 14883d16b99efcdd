import BridgeHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// A do-nothing OCPP peer: it answers every CALL at once with a minimal CALLRESULT, without parsing the payload,
/// validating or storing anything. What the load generator gets from it is the ceiling the bridge is compared to
/// (issue 7: the bridge should reach at least 70% of it).
///
/// It runs on either WebSocket transport: the bridge's own (`nio`, the OCPP endpoint's synchronous NIO handlers,
/// the fair reference for the bridge) or hummingbird-websocket's async streams (`hummingbird`, what the bridge
/// used before; docs/performance.md).
struct EchoPeer: Sendable {
    enum Transport: String, CaseIterable, Sendable {
        case nio
        case hummingbird
    }

    var host: String
    var port: Int

    /// The echo peer on the bridge's own WebSocket transport.
    func nioApplication(onRunning: @escaping @Sendable (String) async -> Void) -> some ApplicationProtocol {
        let limits = WebSocketServerLimits(maxMessageSize: 1 << 20, pingInterval: nil, closeTimeout: .seconds(10))
        return Application(
            router: Router(),
            server: HTTPServerBuilder { _ in
                WebSocketUpgradeChannel(limits: limits, healthPath: nil) { head, _ in
                    let subprotocol = Self.subprotocol(offered: head.headers["Sec-WebSocket-Protocol"])
                    return .upgrade(headers: ["Sec-WebSocket-Protocol": subprotocol]) { connection in
                        EchoReceiver(connection: connection)
                    }
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "ocpp-bench-echo"),
            onServerRunning: { channel in await onRunning("\(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)") })
    }

    /// The echo peer on hummingbird-websocket.
    func hummingbirdApplication(onRunning: @escaping @Sendable (String) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(), ws: WebSocketServerConfiguration(maxFrameSize: 1 << 20))
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: configuration) { request, _, _ in
                let subprotocol = Self.subprotocol(offered: request.headerFields[values: .secWebSocketProtocol])
                return .upgrade([.secWebSocketProtocol: subprotocol]) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message, let reply = Self.answer(to: text) else { continue }
                        try await outbound.write(.text(reply))
                    }
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "ocpp-bench-echo"),
            onServerRunning: { channel in await onRunning("\(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)") })
    }

    /// The first subprotocol offered in the `Sec-WebSocket-Protocol` header values (comma-separated lists), or
    /// `ocpp1.6` when none is: the echo peer speaks whatever it is offered.
    static func subprotocol(offered headerValues: [String]) -> String {
        headerValues.lazy.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.first ?? "ocpp1.6"
    }

    /// `[3, id, {...}]` for a CALL `[2, "id", "Action", ...]`, found by scanning for the id and action, not parsing.
    static func answer(to text: String) -> String? {
        let bytes = Array(text.utf8)
        var quotes: [Int] = []
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\"") {
            quotes.append(index)
            if quotes.count == 4 { break }
        }
        guard quotes.count == 4, bytes.prefix(3).contains(UInt8(ascii: "2")) else { return nil }
        let id = String(decoding: bytes[(quotes[0] + 1)..<quotes[1]], as: UTF8.self)
        let action = String(decoding: bytes[(quotes[2] + 1)..<quotes[3]], as: UTF8.self)
        let payload: String
        switch action {
        case "BootNotification": payload = #"{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":300}"#
        case "Heartbeat": payload = #"{"currentTime":"2026-01-01T00:00:00Z"}"#
        case "StartTransaction": payload = #"{"transactionId":1,"idTagInfo":{"status":"Accepted"}}"#
        case "Authorize": payload = #"{"idTagInfo":{"status":"Accepted"}}"#
        default: payload = "{}"
        }
        return "[3,\"\(id)\",\(payload)]"
    }
}

/// Answers each CALL of one connection of the NIO echo peer, on its event loop.
final class EchoReceiver: WebSocketReceiver {
    let connection: WebSocketServerConnection

    init(connection: WebSocketServerConnection) {
        self.connection = connection
    }

    func received(text: ByteBuffer) {
        if let reply = EchoPeer.answer(to: String(buffer: text)) { connection.send(text: reply) }
    }

    func received(binary: ByteBuffer) {}
    func closed() {}
}
