@testable import BridgeHTTP
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import ServiceLifecycle
import TestTLS
import Testing

/// The synchronous WebSocket server: the frame handler and the HTTP side on embedded channels, then the whole child
/// channel behind a real Hummingbird server, plain and under TLS, spoken to over raw sockets.
@Suite(.timeLimit(.minutes(1))) struct WebSocketServerHandlerTests {
    // MARK: Embedded channel

    /// Records what the handler delivers.
    final class Recorder: WebSocketReceiver {
        var texts: [String] = []
        var binaries: [[UInt8]] = []
        var closedCount = 0
        func received(text: ByteBuffer) { texts.append(String(buffer: text)) }
        func received(binary: ByteBuffer) { binaries.append(Array(binary.readableBytesView)) }
        func closed() { closedCount += 1 }
    }

    /// A connected embedded channel running one handler, and what the handler delivered.
    struct Harness {
        let channel: EmbeddedChannel
        let handler: WebSocketServerHandler
        let recorder = Recorder()
        var connection: WebSocketServerConnection {
            WebSocketServerConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        }

        init(maxMessageSize: Int = 1 << 16, pingInterval: Duration? = nil, closeTimeout: Duration = .seconds(5), codec: Bool = false) throws {
            channel = EmbeddedChannel()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            handler = WebSocketServerHandler(
                limits: WebSocketServerLimits(maxMessageSize: maxMessageSize, pingInterval: pingInterval, closeTimeout: closeTimeout),
                logger: Logger(label: "test"))
            if codec {
                try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxMessageSize)))
            }
            try channel.pipeline.syncOperations.addHandler(handler)
            handler.attach(recorder)
        }

        func receive(_ frame: WebSocketFrame) throws { try channel.writeInbound(frame) }

        /// The next frame the handler wrote, if any.
        func sent() throws -> WebSocketFrame? { try channel.readOutbound(as: WebSocketFrame.self) }

        /// The code and reason of the next frame written, which must be a close frame.
        func sentClose() throws -> (code: UInt16, reason: String)? {
            guard var frame = try sent() else { return nil }
            #expect(frame.opcode == .connectionClose)
            #expect(frame.fin && frame.maskKey == nil)
            guard let code = frame.data.readInteger(as: UInt16.self) else { return nil }
            return (code, frame.data.readString(length: frame.data.readableBytes) ?? "")
        }
    }

    /// A frame as a client sends it: masked, unless told otherwise.
    static func clientFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) -> WebSocketFrame {
        var data = ByteBuffer(bytes: payload)
        let key: WebSocketMaskingKey? = masked ? [0x12, 0x34, 0x56, 0x78] : nil
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, opcode: opcode, maskKey: key, data: data)
    }

    static func clientFrame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
        clientFrame(opcode, Array(text.utf8), fin: fin)
    }

    static func closePayload(_ code: UInt16, _ reason: String = "") -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
    }

    @Test func aSingleFrameMessageIsDeliveredUnmasked() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.text, "[2,\"1\",\"Heartbeat\",{}]"))
        try h.receive(Self.clientFrame(.binary, [0, 1, 2, 255]))
        #expect(h.recorder.texts == ["[2,\"1\",\"Heartbeat\",{}]"])
        #expect(h.recorder.binaries == [[0, 1, 2, 255]])
        #expect(try h.sent() == nil)
        #expect(h.channel.isActive)
    }

    @Test func fragmentsAreReassembledAndAPingBetweenThemIsAnswered() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.text, "Hel", fin: false))
        try h.receive(Self.clientFrame(.ping, [7, 8, 9]))
        try h.receive(Self.clientFrame(.continuation, "lo ", fin: false))
        #expect(h.recorder.texts.isEmpty)
        try h.receive(Self.clientFrame(.continuation, "world", fin: true))
        #expect(h.recorder.texts == ["Hello world"])
        let pong = try #require(try h.sent())
        #expect(pong.opcode == .pong && pong.fin && pong.maskKey == nil)
        #expect(Array(pong.data.readableBytesView) == [7, 8, 9])
        #expect(try h.sent() == nil)
    }

    @Test func aContinuationWithoutAMessageFailsWith1002() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.continuation, "orphan"))
        #expect(try h.sentClose()?.code == 1002)
        #expect(!h.channel.isActive)
        #expect(h.recorder.texts.isEmpty)
        #expect(h.recorder.closedCount == 1)
    }

    @Test func aNewMessageInsideAFragmentedOneFailsWith1002() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.text, "first", fin: false))
        try h.receive(Self.clientFrame(.text, "second"))
        #expect(try h.sentClose()?.code == 1002)
        #expect(h.recorder.texts.isEmpty)
    }

    @Test func anUnmaskedFrameFailsWith1002() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.text, Array("plain".utf8), masked: false))
        #expect(try h.sentClose()?.code == 1002)
        #expect(!h.channel.isActive)
        #expect(h.recorder.texts.isEmpty)
    }

    @Test func reservedBitsAndUnknownOpcodesFailWith1002() throws {
        var frame = Self.clientFrame(.text, "x")
        frame.rsv1 = true
        let reserved = try Harness()
        try reserved.receive(frame)
        #expect(try reserved.sentClose()?.code == 1002)
        #expect(reserved.recorder.texts.isEmpty)

        let unknown = try Harness()
        try unknown.receive(Self.clientFrame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, [1]))
        #expect(try unknown.sentClose()?.code == 1002)
    }

    @Test func aFragmentedControlFrameOrAnOverlongOneFailsWith1002() throws {
        let fragmented = try Harness()
        try fragmented.receive(Self.clientFrame(.ping, [1], fin: false))
        #expect(try fragmented.sentClose()?.code == 1002)

        let overlong = try Harness()
        try overlong.receive(Self.clientFrame(.ping, [UInt8](repeating: 1, count: 126)))
        #expect(try overlong.sentClose()?.code == 1002)
    }

    @Test func aMessageOverTheLimitAcrossFragmentsFailsWith1009AndIsNotDelivered() throws {
        let h = try Harness(maxMessageSize: 10)
        try h.receive(Self.clientFrame(.text, "123456", fin: false))
        try h.receive(Self.clientFrame(.continuation, "789012", fin: true))
        #expect(try h.sentClose()?.code == 1009)
        #expect(!h.channel.isActive)
        #expect(h.recorder.texts.isEmpty)
    }

    @Test func aMessageExactlyAtTheLimitIsDelivered() throws {
        let h = try Harness(maxMessageSize: 10)
        try h.receive(Self.clientFrame(.text, "12345", fin: false))
        try h.receive(Self.clientFrame(.continuation, "67890", fin: true))
        #expect(h.recorder.texts == ["1234567890"])
        #expect(try h.sent() == nil)
    }

    @Test func theDecodersFrameTooLargeFailsWith1009AndItsOtherErrorsWith1002() throws {
        let large = try Harness(maxMessageSize: 16, codec: true)
        // A masked text frame announcing 17 bytes.
        try large.channel.writeInbound(ByteBuffer(bytes: [0x81, 0x80 | 17, 1, 2, 3, 4]))
        let tooLarge = try Self.sentBytes(large.channel)
        #expect(tooLarge.first == 0x88 && Array(tooLarge.dropFirst(2).prefix(2)) == [0x03, 0xF1], "\(tooLarge)")  // close, 1009
        #expect(!large.channel.isActive)

        let fragmentedPing = try Harness(maxMessageSize: 16, codec: true)
        try fragmentedPing.channel.writeInbound(ByteBuffer(bytes: [0x09, 0x80 | 1, 1, 2, 3, 4, 0]))
        let invalid = try Self.sentBytes(fragmentedPing.channel)
        #expect(invalid.first == 0x88 && Array(invalid.dropFirst(2).prefix(2)) == [0x03, 0xEA], "\(invalid)")  // close, 1002
    }

    /// Everything the embedded channel wrote as bytes.
    static func sentBytes(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    @Test func thePeersCloseIsEchoedThenTheChannelCloses() throws {
        let h = try Harness()
        try h.receive(Self.clientFrame(.connectionClose, Self.closePayload(1000, "bye")))
        let echo = try #require(try h.sentClose())
        #expect(echo.code == 1000)
        #expect(!h.channel.isActive)
        #expect(h.recorder.closedCount == 1)
        h.channel.pipeline.fireChannelInactive()
        #expect(h.recorder.closedCount == 1)
    }

    @Test func aCloseWithoutCodeIsAnsweredWith1000AndAnInvalidCodeWith1002() throws {
        let empty = try Harness()
        try empty.receive(Self.clientFrame(.connectionClose, []))
        #expect(try empty.sentClose()?.code == 1000)

        for invalid: UInt16 in [999, 1004, 1005, 1006, 1015, 2000, 5000] {
            let h = try Harness()
            try h.receive(Self.clientFrame(.connectionClose, Self.closePayload(invalid)))
            #expect(try h.sentClose()?.code == 1002, "code \(invalid)")
        }
        let custom = try Harness()
        try custom.receive(Self.clientFrame(.connectionClose, Self.closePayload(4001)))
        #expect(try custom.sentClose()?.code == 4001)
    }

    @Test func ourCloseSendsCodeAndReasonStopsDeliveryAndEndsWithThePeersClose() throws {
        let h = try Harness()
        h.connection.close(code: .policyViolation, reason: "idle")
        let close = try #require(try h.sentClose())
        #expect(close.code == 1008 && close.reason == "idle")
        h.connection.close(code: .normalClosure, reason: "again")
        #expect(try h.sent() == nil)  // idempotent
        #expect(h.channel.isActive)

        try h.receive(Self.clientFrame(.text, "late"))
        h.connection.send(text: "dropped")
        #expect(h.recorder.texts.isEmpty)
        #expect(try h.sent() == nil)

        try h.receive(Self.clientFrame(.connectionClose, Self.closePayload(1008)))
        #expect(try h.sent() == nil)  // no second close frame
        #expect(!h.channel.isActive)
        #expect(h.recorder.closedCount == 1)
    }

    @Test func ourCloseEndsAfterTheCloseTimeoutWhenThePeerStaysSilent() throws {
        let h = try Harness(closeTimeout: .seconds(3))
        h.connection.close(code: .goingAway, reason: "bye")
        #expect(try h.sentClose()?.code == 1001)
        h.channel.embeddedEventLoop.advanceTime(by: .milliseconds(2_999))
        #expect(h.channel.isActive)
        h.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!h.channel.isActive)
        #expect(h.recorder.closedCount == 1)
    }

    @Test func aLongReasonIsCutOnACharacterBoundaryWithin123Bytes() throws {
        let reason = String(repeating: "a", count: 121) + "éé"
        let cut = WebSocketServerHandler.truncated(reason, toUTF8Count: 123)
        #expect(cut.utf8.count == 123 && cut.hasSuffix("é"))
        let h = try Harness()
        h.connection.close(code: .normalClosure, reason: String(repeating: "€", count: 50))
        let close = try #require(try h.sentClose())
        #expect(close.reason == String(repeating: "€", count: 41))
    }

    @Test func sendWritesOneUnmaskedFinTextFrame() throws {
        let h = try Harness()
        h.connection.send(text: "[3,\"1\",{}]")
        let frame = try #require(try h.sent())
        #expect(frame.opcode == .text && frame.fin && frame.maskKey == nil)
        #expect(String(buffer: frame.data) == "[3,\"1\",{}]")
    }

    @Test func automaticPingsCloseASilentPeerWith1001() throws {
        let h = try Harness(pingInterval: .seconds(10))
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(try h.sent() == nil)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let ping = try #require(try h.sent())
        #expect(ping.opcode == .ping && ping.fin && ping.maskKey == nil)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        let close = try #require(try h.sentClose())
        #expect(close.code == 1001 && close.reason == "ping timeout")
        #expect(!h.channel.isActive)
        #expect(h.recorder.closedCount == 1)
    }

    @Test func anyFrameFromThePeerKeepsTheConnectionAlive() throws {
        let h = try Harness(pingInterval: .seconds(10))
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try h.sent()?.opcode == .ping)
        try h.receive(Self.clientFrame(.text, "[2,\"9\",\"Heartbeat\",{}]"))  // not a pong: still alive
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try h.sent()?.opcode == .ping)
        #expect(h.channel.isActive)
        try h.receive(Self.clientFrame(.pong, [0, 0, 0, 2]))
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try h.sent()?.opcode == .ping)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(try h.sentClose()?.code == 1001)
    }

    @Test func quiescingStartsTheClosingHandshakeWith1001() throws {
        let h = try Harness()
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        let close = try #require(try h.sentClose())
        #expect(close.code == 1001 && close.reason == "the server is shutting down")
        #expect(h.channel.isActive)
    }

    @Test func thePeerVanishingEndsTheConnectionOnce() throws {
        let h = try Harness(pingInterval: .seconds(10))
        try h.channel.close().wait()
        #expect(h.recorder.closedCount == 1)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try h.sent() == nil)  // the ping timer was cancelled
    }

    // MARK: HTTP side on an embedded channel

    /// Holds back the completion of every write, as a peer that reads slowly would: the connection cannot close
    /// after its response, so a second response would show.
    final class HeldWrites: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var promises: [EventLoopPromise<Void>] = []
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if let promise { promises.append(promise) }
            context.write(data, promise: nil)
        }
        func release() {
            let held = promises
            promises = []
            for promise in held { promise.succeed() }
        }
    }

    /// An embedded channel set up by `WebSocketUpgradeChannel`, its writes held back.
    struct HTTPHarness {
        let channel = EmbeddedChannel()
        let held = HeldWrites()

        init(decide: @escaping @Sendable (HTTPRequestHead) -> WebSocketUpgradeDecision) throws {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            try channel.pipeline.syncOperations.addHandler(held, position: .first)
            let limits = WebSocketServerLimits(maxMessageSize: 1024, pingInterval: nil, closeTimeout: .seconds(5))
            _ = try WebSocketUpgradeChannel(limits: limits, healthPath: "/health") { head, _ in decide(head) }
                .setup(channel: channel, logger: Logger(label: "test")).wait()
        }

        /// Sends `request`, runs what the event loop deferred, and returns everything written since.
        func exchange(_ request: String) throws -> String {
            try channel.writeInbound(ByteBuffer(string: request))
            channel.embeddedEventLoop.run()
            var written = ""
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
            return written
        }
    }

    static func responses(in text: String) -> Int { text.components(separatedBy: "HTTP/1.1 ").count - 1 }

    @Test func aRefusalIsTheOnlyResponseEvenWhileItIsStillBeingWritten() throws {
        let h = try HTTPHarness { _ in .refuse(.unauthorized, headers: [("WWW-Authenticate", "Basic realm=\"OCPP\"")]) }
        let written = try h.exchange(RawClient.upgradeRequest(path: "/ocpp/CP1", headers: []))
        #expect(written.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "\(written)")
        #expect(Self.responses(in: written) == 1, "\(written)")
        #expect(h.channel.isActive)
        h.held.release()
        #expect(!h.channel.isActive)
    }

    @Test func upgradeRequestsNobodyCanServeGet400() throws {
        let requests = [
            // NIO's upgrader refuses it: no Sec-WebSocket-Key.
            "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            // Version other than 13.
            "GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            // Not a GET.
            "POST /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            // A protocol other than websocket: NIO never hands this request on.
            "GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            // Not HTTP.
            "\u{1}\u{2}garbage\r\n\r\n",
        ]
        for request in requests {
            let h = try HTTPHarness { _ in .upgrade(headers: [:], opened: { _ in Recorder() }) }
            let written = try h.exchange(request)
            #expect(written.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(request): \(written)")
            #expect(Self.responses(in: written) == 1, "\(request): \(written)")
            h.held.release()
            #expect(!h.channel.isActive, "\(request)")
        }
    }

    @Test func plainRequestsGetHealthOr404AndTheirBodiesAreIgnored() throws {
        let health = try HTTPHarness { _ in .refuse(.forbidden, headers: []) }
        let ok = try health.exchange("GET /health?probe=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n") && ok.hasSuffix("\r\n\r\nok"), "\(ok)")
        #expect(ok.lowercased().contains("connection: close\r\n") && ok.lowercased().contains("content-length: 2\r\n"))

        let post = try HTTPHarness { _ in .refuse(.forbidden, headers: []) }
        let missing = try post.exchange("POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing)")
        #expect(Self.responses(in: missing) == 1)
        post.held.release()
        #expect(!post.channel.isActive)
    }

    @Test func anIdleHTTPConnectionClosesWhenTheServerQuiesces() throws {
        let h = try HTTPHarness { _ in .refuse(.forbidden, headers: []) }
        h.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!h.channel.isActive)
    }

    @Test func framesSentWithTheUpgradeRequestReachTheReceiver() throws {
        let recorder = Recorder()
        nonisolated(unsafe) let shared = recorder  // the embedded loop is this test's thread
        let h = try HTTPHarness { _ in .upgrade(headers: ["Sec-WebSocket-Protocol": "ocpp1.6"], opened: { _ in shared }) }
        // Connection: Upgrade tells the HTTP parser to stop after this request; the frame's bytes are the rest.
        let request = RawClient.upgradeRequest(path: "/ocpp/CP1", headers: ["Connection: Upgrade", "Sec-WebSocket-Protocol: ocpp1.6"])
        var bytes = ByteBuffer(string: request)
        bytes.writeBytes(RawClient.maskedFrame(opcode: 0x1, Array("[2,\"1\",\"Heartbeat\",{}]".utf8)))
        try h.channel.writeInbound(bytes)
        h.channel.embeddedEventLoop.run()
        var written = ""
        while let buffer = try h.channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: buffer) }
        #expect(written.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(written)")
        #expect(written.lowercased().contains("sec-websocket-protocol: ocpp1.6\r\n"))
        #expect(recorder.texts.isEmpty)  // the upgrade goes on once the 101 is written
        h.held.release()
        h.channel.embeddedEventLoop.run()
        #expect(recorder.texts == ["[2,\"1\",\"Heartbeat\",{}]"])
        #expect(h.channel.isActive)
        try h.channel.close().wait()
        #expect(recorder.closedCount == 1)
    }

    // MARK: Real socket

    /// Echoes every text message through the connection.
    final class Echo: WebSocketReceiver {
        let connection: WebSocketServerConnection
        init(_ connection: WebSocketServerConnection) { self.connection = connection }
        func received(text: ByteBuffer) { connection.send(text: String(buffer: text)) }
        func received(binary: ByteBuffer) {}
        func closed() {}
    }

    /// The accept value for RawClient.s key `dGhlIHNhbXBsZSBub25jZQ==` (RFC 6455 1.3).
    static let acceptForTestKey = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    @Test func aRealServerUpgradesRefusesAndAnswersPlainRequests() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let limits = WebSocketServerLimits(maxMessageSize: 1 << 16, pingInterval: .seconds(30), closeTimeout: .seconds(2))
        try await Self.withServer(
            HTTPServerBuilder { _ in
                WebSocketUpgradeChannel(limits: limits, healthPath: "/health") { head, _ in
                    if head.uri.hasPrefix("/refuse") {
                        return .refuse(.unauthorized, headers: [("WWW-Authenticate", "Basic realm=\"OCPP\"")])
                    }
                    var headers = HTTPHeaders()
                    if head.headers[canonicalForm: "Sec-WebSocket-Protocol"].contains("ocpp1.6") {
                        headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
                    }
                    return .upgrade(headers: headers, opened: { Echo($0) })
                }
            }, logger: logger
        ) { port, group in

            // Upgrade with a subprotocol, then an echoed message.
            let ws = try await RawClient.connect(port: port)
            try await ws.write(Array(RawClient.upgradeRequest(path: "/ocpp/CP1", headers: ["Sec-WebSocket-Protocol: ocpp1.6"]).utf8))
            let head = try await ws.readHead().lowercased()
            #expect(head.hasPrefix("http/1.1 101"), "\(head)")
            #expect(head.contains("sec-websocket-protocol: ocpp1.6\r\n"))
            #expect(head.contains("sec-websocket-accept: \(Self.acceptForTestKey.lowercased())\r\n"))
            let message = "[2,\"42\",\"Heartbeat\",{}]"
            try await ws.write(RawClient.maskedFrame(opcode: 0x1, Array(message.utf8)))
            let echoed = try #require(try await ws.readFrame())
            #expect(echoed.opcode == 0x1 && echoed.fin && !echoed.masked)
            #expect(String(decoding: echoed.payload, as: UTF8.self) == message)

            // A refused upgrade: exactly one response, then the end of the stream.
            let refused = try await RawClient.connect(port: port)
            try await refused.write(Array(RawClient.upgradeRequest(path: "/refuse/CP2", headers: []).utf8))
            let refusal = String(decoding: try await refused.readToEnd(), as: UTF8.self)
            #expect(refusal.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "\(refusal)")
            #expect(refusal.components(separatedBy: "HTTP/1.1").count == 2, "\(refusal)")
            #expect(refusal.lowercased().contains("www-authenticate: basic realm=\"ocpp\"\r\n"))
            #expect(refusal.lowercased().contains("content-length: 0\r\n"))

            // An upgrade NIO rejects by itself (no Sec-WebSocket-Key): 400, then the end.
            let keyless = try await RawClient.connect(port: port)
            try await keyless.write(Array("GET /ocpp/CP3 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
            let rejected = String(decoding: try await keyless.readToEnd(), as: UTF8.self)
            #expect(rejected.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(rejected)")
            #expect(rejected.components(separatedBy: "HTTP/1.1").count == 2, "\(rejected)")

            // Plain requests.
            let health = try await RawClient.connect(port: port)
            try await health.write(Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let healthy = String(decoding: try await health.readToEnd(), as: UTF8.self)
            #expect(healthy.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(healthy)")
            #expect(healthy.lowercased().contains("content-type: text/plain; charset=utf-8\r\n"))
            #expect(healthy.hasSuffix("\r\n\r\nok"))

            let other = try await RawClient.connect(port: port)
            try await other.write(Array("GET /other HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let missing = String(decoding: try await other.readToEnd(), as: UTF8.self)
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing)")
            #expect(missing.components(separatedBy: "HTTP/1.1").count == 2)

            // Shutting down closes the open WebSocket with 1001; answering it ends the connection.
            await group.triggerGracefulShutdown()
            let goingAway = try #require(try await ws.readFrame())
            #expect(goingAway.opcode == 0x8 && Array(goingAway.payload.prefix(2)) == [0x03, 0xE9])
            try await ws.write(RawClient.maskedFrame(opcode: 0x8, [0x03, 0xE9]))
            #expect(try await ws.readToEnd().isEmpty)
        }
    }

    @Test(.enabled(if: SelfSignedCertificate.opensslPath != nil, "needs the openssl command"))
    func behindTLSTheDecisionFindsTheTLSHandlerAndAClosedConnectionEndsAtOnce() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let selfSigned = try await SelfSignedCertificate.make()
        let serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(selfSigned.certificate)], privateKey: .privateKey(selfSigned.key))
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.certificateVerification = .none
        let clientContext = try NIOSSLContext(configuration: clientTLS)
        // A close timeout longer than NIOSSL's 5 s shutdown timeout, so that neither can hide a slow close.
        let limits = WebSocketServerLimits(maxMessageSize: 1 << 16, pingInterval: nil, closeTimeout: .seconds(20))
        try await Self.withServer(
            HTTPServerBuilder { _ in
                let webSocket = WebSocketUpgradeChannel(limits: limits, healthPath: nil) { _, channel in
                    guard (try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil else {
                        return .refuse(.internalServerError, headers: [])
                    }
                    return .upgrade(headers: [:], opened: { Echo($0) })
                }
                return try TLSChannel(webSocket, tlsConfiguration: serverTLS)
            }, logger: logger
        ) { port, group in

            let ws = try await RawClient.connect(port: port, tls: clientContext)
            try await ws.write(Array(RawClient.upgradeRequest(path: "/ocpp/CP1", headers: ["Connection: Upgrade"]).utf8))
            let head = try await ws.readHead()
            #expect(head.hasPrefix("HTTP/1.1 101"), "\(head)")
            try await ws.write(RawClient.maskedFrame(opcode: 0x1, Array("over TLS".utf8)))
            #expect(try await ws.readFrame()?.payload == Array("over TLS".utf8))

            // The closing handshake, then TLS's: the server's side ends as soon as both are done.
            await group.triggerGracefulShutdown()
            let goingAway = try #require(try await ws.readFrame())
            #expect(goingAway.opcode == 0x8)
            let started = ContinuousClock.now
            try await ws.write(RawClient.maskedFrame(opcode: 0x8, [0x03, 0xE9]))
            #expect(try await ws.readToEnd().isEmpty)
            #expect(ContinuousClock.now - started < .seconds(10), "not the 20 s close timeout")
        }
    }

    /// Runs a Hummingbird server on a free loopback port with `server`, hands `body` the port and the service
    /// group (whose graceful shutdown `body` triggers), and returns once the server has stopped.
    static func withServer(
        _ server: HTTPServerBuilder, logger: Logger, _ body: @escaping @Sendable (Int, ServiceGroup) async throws -> Void
    ) async throws {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: Router(), server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var portIterator = ports.makeAsyncIterator()
            let port = try #require(await portIterator.next())
            try await body(port, group)
            try await tasks.waitForAll()
        }
    }
}
