import Bridge
import Logging
import OCPPRPC
import Upstream

/// Opens upstream CSMS connections with the NIO WebSocket client (`Upstream`).
public struct NIOUpstreamConnector: UpstreamConnector {
    public var connectTimeout: Duration = .seconds(10)
    public var pingInterval: Duration? = .seconds(60)
    public var maxMessageSize = 1 << 20
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func connect(to upstream: UpstreamConfiguration, chargePointId: String, version: OCPPVersion) async throws -> any UpstreamTransport {
        let endpoint = UpstreamEndpoint(name: upstream.name, url: upstream.url)
        // OCPP security profile 1: the username is the charge point id.
        let credentials = upstream.password.map { (username: chargePointId, password: $0) }
        let connection = try await UpstreamConnection.connect(
            to: endpoint.url(for: chargePointId), subprotocols: [version.subprotocol], basicAuth: credentials,
            connectTimeout: connectTimeout, maxMessageSize: maxMessageSize, pingInterval: pingInterval, logger: logger)
        guard connection.subprotocol == version.subprotocol else {
            await connection.close(code: .protocolError, reason: "subprotocol \(version.subprotocol) required")
            throw UpstreamSubprotocolError(wanted: version.subprotocol, got: connection.subprotocol)
        }
        return NIOUpstreamTransport(connection: connection)
    }
}

/// The CSMS accepted the WebSocket but not the charge point's protocol version.
struct UpstreamSubprotocolError: Error, CustomStringConvertible {
    var wanted: String
    var got: String?
    var description: String { "the upstream answered subprotocol \(got ?? "none"), not \(wanted)" }
}

struct NIOUpstreamTransport: UpstreamTransport {
    let connection: UpstreamConnection

    var messages: AsyncStream<String> { connection.messages }
    func send(_ text: String) { connection.send(text) }
    func close() async { await connection.close() }
}
