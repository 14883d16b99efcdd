import Bridge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import OCPPRPC
import Scripting
import TagStore

/// The REST API listener (loopback by default: charge points must never reach the tag-write API).
public struct APIServer: Sendable {
    /// Listener settings.
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// The largest request body accepted.
        public var maxBodySize = 1 << 20
        /// TLS (`https://`); nil: plain HTTP.
        public var tls: TLSFiles?
        /// When set, every route but `/health` needs `Authorization: Bearer <token>` (401 otherwise).
        public var token: String?
        public init() {}
    }

    let bridge: Bridge
    let scripting: BridgeScripting?
    let configuration: Configuration
    let logger: Logger
    let metrics: BridgeMetrics

    public init(bridge: Bridge, scripting: BridgeScripting? = nil, configuration: Configuration, logger: Logger) {
        self.bridge = bridge
        self.scripting = scripting
        self.configuration = configuration
        self.logger = logger
        self.metrics = BridgeMetrics(bridge: bridge, scripting: scripting)
    }

    /// The Hummingbird application serving the API; `onRunning` receives the bound address. Throws when the
    /// TLS files cannot be used.
    public func application(onRunning: @escaping @Sendable (String) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let tlsConfiguration = try configuration.tls?.serverConfiguration(prefix: "api.tls")
        let router = Router()
        if let token = configuration.token { router.add(middleware: BearerTokenMiddleware(token: token, logger: logger)) }
        TagsController(bridge: bridge, maxBodySize: configuration.maxBodySize).register(on: router)
        ChargePointsController(bridge: bridge, maxBodySize: configuration.maxBodySize).register(on: router)
        ScriptsController(scripting: scripting).register(on: router)
        let metrics = self.metrics
        router.get("/health") { _, _ in JSONResponse.make(.ok, ["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        let server: HTTPServerBuilder = try tlsConfiguration.map { try HTTPServerBuilder.tls(.http1(), tlsConfiguration: $0) } ?? .http1()
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ocpp-bridge"),
            onServerRunning: { channel in await onRunning(OCPPEndpoint.describe(channel.localAddress)) },
            logger: logger)
    }
}

/// Requires `Authorization: Bearer <token>` on every route but `/health`; compares in constant time.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: [UInt8]
    let logger: Logger

    init(token: String, logger: Logger) {
        self.token = Array(token.utf8)
        self.logger = logger
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let presented = header.hasPrefix("Bearer ") ? Array(header.utf8.dropFirst("Bearer ".utf8.count)) : []
        guard PasswordHash.constantTimeEqual(presented, token) else {
            logger.warning("refused an API request without the right bearer token", metadata: ["http.path": .string(request.uri.path)])
            var response = JSONResponse.error(.unauthorized, code: "Unauthorized", "this API needs 'Authorization: Bearer <token>'")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}
