import NIOCore
import NIOPosix
import NIOSSL

/// A raw TCP client on NIO, plain or TLS: for handshakes and frames written by hand (what a WebSocket client would
/// not send), and for reading responses to the end.
/// Used by one test task at a time.
final class RawClient {
    /// Forwards what arrives to a stream, which ends with the connection.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation
        init(_ continuation: AsyncStream<ByteBuffer>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(Self.unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    let channel: any Channel
    /// Bytes received and not consumed yet.
    private var pending: [UInt8] = []
    private var iterator: AsyncStream<ByteBuffer>.AsyncIterator

    private init(channel: any Channel, stream: AsyncStream<ByteBuffer>) {
        self.channel = channel
        self.iterator = stream.makeAsyncIterator()
    }

    /// Connects to 127.0.0.1, through TLS if a context is given.
    static func connect(port: Int, tls: NIOSSLContext? = nil) async throws -> RawClient {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel, stream: stream)
    }

    deinit { channel.close(promise: nil) }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Reads until `count` bytes are pending; false at the end of the stream.
    private func fill(_ count: Int) async -> Bool {
        while pending.count < count {
            var iterator = self.iterator
            let buffer = await iterator.next()
            self.iterator = iterator
            guard let buffer else { return false }
            pending += buffer.readableBytesView
        }
        return true
    }

    private func take(_ count: Int) -> [UInt8] {
        defer { pending.removeFirst(count) }
        return Array(pending.prefix(count))
    }

    /// Reads an HTTP head, up to and including its empty line.
    func readHead() async throws -> String {
        var end = 0
        while true {
            while end + 4 <= pending.count {
                if pending[end..<end + 4].elementsEqual([13, 10, 13, 10]) { return String(decoding: take(end + 4), as: UTF8.self) }
                end += 1
            }
            guard await fill(pending.count + 1) else { return String(decoding: take(pending.count), as: UTF8.self) }
        }
    }

    /// What is received and not consumed yet, or what arrives next; nil at the end of the stream.
    func readSome() async -> [UInt8]? {
        guard await fill(1) else { return nil }
        return take(pending.count)
    }

    /// Reads everything up to the end of the stream.
    func readToEnd() async throws -> [UInt8] {
        while await fill(pending.count + 1) {}
        return take(pending.count)
    }

    /// The next frame (payloads up to 65535 bytes), or nil at the end of the stream.
    func readFrame() async throws -> (opcode: UInt8, fin: Bool, masked: Bool, payload: [UInt8])? {
        guard await fill(2) else { return nil }
        let header = take(2)
        var length = Int(header[1] & 0x7F)
        if length == 126 {
            guard await fill(2) else { return nil }
            let bytes = take(2)
            length = Int(bytes[0]) << 8 | Int(bytes[1])
        }
        let masked = header[1] & 0x80 != 0
        guard await fill(length + (masked ? 4 : 0)) else { return nil }
        if masked { _ = take(4) }
        return (header[0] & 0x0F, header[0] & 0x80 != 0, masked, take(length))
    }

    /// A masked FIN frame with a payload of at most 125 bytes.
    static func maskedFrame(opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let key: [UInt8] = [0xA1, 0xB2, 0xC3, 0xD4]
        return [0x80 | opcode, 0x80 | UInt8(payload.count)] + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    /// A WebSocket upgrade request for `path` with the given extra header lines.
    static func upgradeRequest(path: String, headers: [String]) -> String {
        (["GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13"] + headers + ["", ""]).joined(separator: "\r\n")
    }
}
