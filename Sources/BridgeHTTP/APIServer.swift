import Bridge
import Foundation
import HTTPTypes
import Hummingbird
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

    /// The Hummingbird application serving the API; `onRunning` receives the bound address.
    public func application(onRunning: @escaping @Sendable (String) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
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
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ocpp-bridge"),
            onServerRunning: { channel in await onRunning(OCPPEndpoint.describe(channel.localAddress)) },
            logger: logger)
    }
}
