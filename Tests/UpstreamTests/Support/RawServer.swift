import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A hand-written WebSocket server on 127.0.0.1 port 0, over raw NIO bytes, that answers the upgrade
/// exactly as told: odd `Connection` headers, refusals, wrong keys, silence, garbage.
final class RawServer: Sendable {
    /// How the server answers the upgrade request.
    enum Answer: Sendable {
        /// `101 Switching Protocols` with this `Connection` value and `Sec-WebSocket-Protocol` (nil: none).
        case switching(connection: String, subprotocol: String?, wrongAccept: Bool = false, then: After = .echo)
        /// These exact bytes, then close.
        case raw(String)
        /// These exact bytes as soon as anything arrives (a TLS ClientHello, say), then close.
        case rawOnFirstBytes(String)
        /// Nothing at all; the connection stays open.
        case silence
    }

    /// What the server does after a 101.
    enum After: Sendable {
        /// Echo text, answer pings, answer close.
        case echo
        /// Like `echo`, but never answer pings.
        case ignorePings
        /// Send these bytes at once, then `echo`.
        case send([UInt8])
        /// Close the TCP connection at once.
        case hangUp
    }

    let port: Int
    private let channel: any Channel
    private let recorder: RequestRecorder

    /// The raw request heads received so far.
    var receivedRequests: [String] { recorder.requests.withLock { $0 } }

    private init(port: Int, channel: any Channel, recorder: RequestRecorder) {
        self.port = port
        self.channel = channel
        self.recorder = recorder
    }

    /// Starts a server that answers every connection with `answer`.
    static func start(_ answer: Answer, tls: NIOSSLContext? = nil) async throws -> RawServer {
        let recorder = RequestRecorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(RawConnectionHandler(answer: answer, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RawServer(port: channel.localAddress?.port ?? 0, channel: channel, recorder: recorder)
    }

    /// A `ws://` URL on this server.
    func url(_ path: String = "/ocpp/CP1") -> String { "ws://127.0.0.1:\(port)\(path)" }

    /// Stops listening.
    func stop() async {
        try? await channel.close()
    }
}

final class RequestRecorder: Sendable {
    let requests = Mutex<[String]>([])
    func record(_ request: String) { requests.withLock { $0.append(request) } }
}

/// One connection of `RawServer`.
final class RawConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let answer: RawServer.Answer
    private let recorder: RequestRecorder
    private var buffer = ByteBuffer()
    private var upgraded = false
    private var answerPings = true

    init(answer: RawServer.Answer, recorder: RequestRecorder) {
        self.answer = answer
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        if case .rawOnFirstBytes(let text) = answer {
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: text))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if !upgraded {
            let view = Array(buffer.readableBytesView)
            guard let end = Self.find([13, 10, 13, 10], in: view) else { return }
            let head = String(decoding: view[..<end], as: UTF8.self)
            buffer.moveReaderIndex(forwardBy: end + 4)
            recorder.record(head)
            respond(to: head, context: context)
        }
        guard upgraded else { return }
        while let (opcode, payload) = Self.readClientFrame(&buffer) {
            switch opcode {
            case 0x1: write(Self.serverFrame(opcode: 0x1, payload: payload), context: context)
            case 0x9: if answerPings { write(Self.serverFrame(opcode: 0xA, payload: payload), context: context) }
            case 0x8:
                write(Self.serverFrame(opcode: 0x8, payload: Array(payload.prefix(2))), context: context)
                context.close(promise: nil)
                return
            default: break
            }
        }
    }

    private func respond(to head: String, context: ChannelHandlerContext) {
        switch answer {
        case .silence, .rawOnFirstBytes:
            return
        case .raw(let text):
            let channel = context.channel
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: text))).whenComplete { _ in channel.close(promise: nil) }
        case .switching(let connection, let subprotocol, let wrongAccept, let then):
            let key = Self.header("sec-websocket-key", in: head) ?? ""
            let accept = wrongAccept ? SHA1.webSocketAccept(key: "not the key") : SHA1.webSocketAccept(key: key)
            var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \(connection)\r\nSec-WebSocket-Accept: \(accept)\r\n"
            if let subprotocol { response += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
            response += "\r\n"
            var out = ByteBuffer(string: response)
            upgraded = true
            switch then {
            case .echo: break
            case .ignorePings: answerPings = false
            case .send(let bytes): out.writeBytes(bytes)
            case .hangUp:
                let channel = context.channel
                context.writeAndFlush(Self.wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            write(out, context: context)
        }
    }

    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
    }

    static func header(_ name: String, in head: String) -> String? {
        for line in head.split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: " ")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }

    /// Reads one complete (masked) client frame, or nothing when more bytes are needed.
    static func readClientFrame(_ buffer: inout ByteBuffer) -> (UInt8, [UInt8])? {
        let bytes = Array(buffer.readableBytesView)
        guard bytes.count >= 2 else { return nil }
        var length = Int(bytes[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard bytes.count >= 4 else { return nil }
            length = Int(bytes[2]) << 8 | Int(bytes[3])
            offset = 4
        } else if length == 127 {
            guard bytes.count >= 10 else { return nil }
            length = bytes[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        let masked = bytes[1] & 0x80 != 0
        let mask = masked ? Array(bytes[offset..<min(offset + 4, bytes.count)]) : []
        if masked { offset += 4 }
        guard bytes.count >= offset + length else { return nil }
        var payload = Array(bytes[offset..<offset + length])
        if masked { for i in payload.indices { payload[i] ^= mask[i % 4] } }
        buffer.moveReaderIndex(forwardBy: offset + length)
        return (bytes[0] & 0x0F, payload)
    }

    /// An unmasked server frame.
    static func serverFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true) -> ByteBuffer {
        var out = ByteBuffer()
        out.writeInteger((fin ? 0x80 : 0) | opcode)
        if payload.count < 126 {
            out.writeInteger(UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(payload.count))
        } else {
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(payload.count))
        }
        out.writeBytes(payload)
        return out
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
