import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Hummingbird WebSocket server on 127.0.0.1 port 0 that picks `ocpp1.6` when offered, greets with
/// `welcome`, echoes text, and closes with 1000 `bye` when it receives `please close`.
struct EchoServer {
    /// What the server saw in one upgrade request.
    struct SeenRequest: Sendable {
        var path: String
        var connection: [String]
        var authorization: String?
        var offered: [String]
    }

    final class Recorder: Sendable {
        let requests = Mutex<[SeenRequest]>([])
    }

    let port: Int
    let recorder: Recorder

    var requests: [SeenRequest] { recorder.requests.withLock { $0 } }

    func url(_ path: String = "/ocpp/CP1") -> String { "ws://127.0.0.1:\(port)\(path)" }

    /// Runs a server for the duration of `body`.
    static func run(autoPing: Duration? = nil, _ body: (EchoServer) async throws -> Void) async throws {
        let logger = testLogger()
        let recorder = Recorder()
        let shouldUpgrade: @Sendable (HTTPRequest, any Channel, Logger) throws -> ShouldUpgradeResult<
            WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
        > = { request, _, _ in
            let offered = request.headerFields[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: " ") }
            recorder.requests.withLock {
                $0.append(
                    SeenRequest(
                        path: request.path ?? "", connection: request.headerFields[values: .connection],
                        authorization: request.headerFields[.authorization], offered: offered))
            }
            let headers: HTTPFields = offered.contains("ocpp1.6") ? [.secWebSocketProtocol: "ocpp1.6"] : [:]
            return .upgrade(headers) { inbound, outbound, _ in
                try await outbound.write(.text("welcome"))
                for try await message in inbound.messages(maxSize: 1 << 22) {
                    guard case .text(let text) = message else { continue }
                    if text == "please close" {
                        try await outbound.close(.normalClosure, reason: "bye")
                        return
                    }
                    try await outbound.write(.text(text))
                }
            }
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(
                configuration: .init(http1: .init(), ws: WebSocketServerConfiguration(
                        maxFrameSize: 1 << 22, autoPing: autoPing.map { .enabled(timePeriod: $0) } ?? .disabled)),
                shouldUpgrade: shouldUpgrade),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port = 0
            for await value in ports {
                port = value
                break
            }
            let server = EchoServer(port: port, recorder: recorder)
            do {
                try await body(server)
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
        }
    }
}
