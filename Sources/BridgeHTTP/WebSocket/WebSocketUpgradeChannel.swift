import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// What the endpoint decides about an upgrade request, synchronously on the channel's event loop.
package enum WebSocketUpgradeDecision: Sendable {
    /// Upgrade, answering with these extra response headers (e.g. Sec-WebSocket-Protocol: ocpp1.6). `opened` is
    /// called once on the event loop when the WebSocket pipeline is in place, with the connection, and returns the
    /// receiver of its messages.
    case upgrade(headers: HTTPHeaders, opened: @Sendable (WebSocketServerConnection) -> any WebSocketReceiver)
    /// Refuse with this HTTP status and extra headers (e.g. 401 + WWW-Authenticate); the component writes the
    /// response (Content-Length: 0, Connection: close) and closes the connection. Exactly one response is written.
    case refuse(HTTPResponseStatus, headers: [(String, String)])
}

/// The Hummingbird server child channel: HTTP/1.1 with a WebSocket upgrade on any path, the decision being the
/// caller's; a plain request gets a health answer or 404. Once upgraded, the connection runs on synchronous NIO
/// handlers (`WebSocketServerHandler`): no task per connection besides Hummingbird's own `handle(value:logger:)`.
///
/// Use as `HTTPServerBuilder { _ in WebSocketUpgradeChannel(limits:, healthPath: "/health", shouldUpgrade:) }`; it
/// may be wrapped by `TLSChannel` (the TLS handler then sits before these handlers, and `shouldUpgrade` can find it
/// in the pipeline).
package struct WebSocketUpgradeChannel: ServerChildChannel {
    /// The channel, whose close ends `handle(value:logger:)`.
    package struct Value: ServerChildChannelValue {
        package let channel: any Channel
    }

    /// How the HTTP phase ended, for the upgrade future NIO completes.
    enum UpgradeOutcome: Sendable {
        case webSocket
        case http
    }

    let limits: WebSocketServerLimits
    let healthPath: String?
    let shouldUpgrade: @Sendable (HTTPRequestHead, any Channel) -> WebSocketUpgradeDecision

    /// - Parameters:
    ///   - limits: the limits of every upgraded connection.
    ///   - healthPath: the path a plain `GET` gets `200 ok` on; nil: every plain request gets 404.
    ///   - shouldUpgrade: decides about each valid upgrade request, on the channel's event loop.
    package init(
        limits: WebSocketServerLimits, healthPath: String?,
        shouldUpgrade: @escaping @Sendable (HTTPRequestHead, any Channel) -> WebSocketUpgradeDecision
    ) {
        self.limits = limits
        self.healthPath = healthPath
        self.shouldUpgrade = shouldUpgrade
    }

    package func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Hummingbird lets peers half-close; this server never reads after the peer's end, and with half-closure
            // NIOSSL ignores the peer's close_notify once our own close started, holding every TLS connection for
            // its 5 s shutdown timeout. Without it, the peer's end closes the channel at once.
            try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            let http = UpgradeHTTPHandler(healthPath: healthPath)
            let httpBound = NIOLoopBound(http, eventLoop: channel.eventLoop)
            let limits = self.limits
            let decide = self.shouldUpgrade
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeOutcome>(
                maxFrameSize: min(limits.maxMessageSize, Int(UInt32.max)),
                // Decoder errors reach WebSocketServerHandler, which answers 1009 or 1002 itself.
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    // NIO checked Sec-WebSocket-Key and Sec-WebSocket-Version: 13 before calling this.
                    let http = httpBound.value
                    guard head.method == .GET else {
                        http.respond(.badRequest)
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    switch decide(head, channel) {
                    case .upgrade(let headers, let opened):
                        http.upgradeAccepted(opened: opened)
                        return channel.eventLoop.makeSucceededFuture(headers)
                    case .refuse(let status, let headers):
                        // NIO then forwards nothing of this request to the HTTP handler: it must not answer again.
                        http.respond(status, headers: headers)
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    // The 101 went out; NIO replaced the HTTP codec by the WebSocket frame encoder and decoder.
                    channel.eventLoop.makeCompletedFuture {
                        let http = httpBound.value
                        guard let opened = http.takeOpened() else { throw ChannelError.inappropriateOperationForState }
                        channel.pipeline.syncOperations.removeHandler(http, promise: nil)
                        let handler = WebSocketServerHandler(limits: limits, logger: logger)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        let connection = WebSocketServerConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                        handler.attach(opened(connection))
                        if http.quiesced {
                            handler.close(code: .goingAway, reason: "the server is shutting down")
                        }
                        return UpgradeOutcome.webSocket
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration(
                upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                    upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in
                        channel.eventLoop.makeCompletedFuture {
                            httpBound.value.notUpgrading()
                            return UpgradeOutcome.http
                        }
                    }))
            // One request per connection: the response closes it.
            configuration.enablePipelining = false
            // UpgradeHTTPHandler answers decoding errors itself, so that no second response can follow one.
            configuration.enableErrorHandling = false
            let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            // After NIO's upgrade handler: sees plain requests, refused upgrades' errors and decoding errors.
            try channel.pipeline.syncOperations.addHandler(http)
            // A request NIO's upgrade handler gave up on (e.g. a body on an upgrade request) would hang.
            upgraded.whenFailure { _ in channel.close(promise: nil) }
            return Value(channel: channel)
        }
    }

    /// Returns once the connection has closed, whatever happened; closes it if the task is cancelled.
    package func handle(value: Value, logger: Logger) async {
        let channel = value.channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// The HTTP side of a connection, after NIO's upgrade handler: answers plain requests (health or 404), writes
/// the refusals of upgrade requests, answers 400 to requests it cannot serve, and makes sure exactly one response
/// is written, after which the connection closes.
final class UpgradeHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// No response yet.
        case idle
        /// The upgrade was accepted; the WebSocket handler replaces this one.
        case upgrading
        /// The response was written; the connection closes once it is flushed.
        case answered
    }

    private let healthPath: String?
    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var opened: (@Sendable (WebSocketServerConnection) -> any WebSocketReceiver)?
    /// A head reached this handler (a plain request).
    private var sawHead = false
    /// The server asked the connection to wind down while the upgrade was under way.
    private(set) var quiesced = false

    init(healthPath: String?) {
        self.healthPath = healthPath
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// The endpoint accepted the upgrade; `opened` waits for the WebSocket pipeline.
    func upgradeAccepted(opened: @escaping @Sendable (WebSocketServerConnection) -> any WebSocketReceiver) {
        state = .upgrading
        self.opened = opened
    }

    func takeOpened() -> (@Sendable (WebSocketServerConnection) -> any WebSocketReceiver)? {
        defer { opened = nil }
        return opened
    }

    /// NIO will not upgrade. A plain request's head follows at once (NIO replays it right after this call); an
    /// upgrade request is never replayed, so one nobody answered yet (it asked for a protocol other than
    /// websocket) gets 400 once the replay had its chance.
    func notUpgrading() {
        guard let context else { return }
        context.eventLoop.assumeIsolated().execute { [self] in
            if state == .idle && !sawHead { respond(.badRequest) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = Self.unwrapInboundIn(data) else { return }  // bodies are ignored
        sawHead = true
        guard state == .idle else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        if let healthPath, path == healthPath, head.method == .GET || head.method == .HEAD {
            respond(.ok, body: "ok")
        } else {
            respond(.notFound)
        }
    }

    /// Writes the one response of this connection, then closes it. Later calls do nothing.
    func respond(_ status: HTTPResponseStatus, headers extra: [(String, String)] = [], body: String? = nil) {
        guard state == .idle, let context else { return }
        state = .answered
        var headers = HTTPHeaders(extra)
        if body != nil {
            headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(body?.utf8.count ?? 0))
        headers.replaceOrAdd(name: "Connection", value: "close")
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle:
            // An upgrade request NIO refused (no Sec-WebSocket-Key, version other than 13...) or a request that
            // does not parse.
            respond(.badRequest)
        case .upgrading:
            // The upgrade failed after the decision: no response can be trusted to make sense any more.
            context.close(promise: nil)
        case .answered:
            // Already closing (e.g. the refusal of the upgrade NIO reports as an error).
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            switch state {
            case .idle: context.close(promise: nil)
            case .upgrading: quiesced = true
            case .answered: break
            }
        case let event as ChannelEvent where event == .inputClosed:
            // The peer half-closed: answer what it asked, or close if it asked nothing.
            if state == .idle && !sawHead { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension UpgradeHTTPHandler: Sendable {}
