import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's WebSocket client upgrader plus the checks it leaves out: `Connection` must include `upgrade`
/// (any case, any other tokens), and the chosen subprotocol must be one that was offered.
final class UpstreamWebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let inner: NIOTypedWebSocketClientUpgrader<UpgradeResult>
    private let offeredSubprotocols: [String]

    /// Creates the upgrader; `upgraded` runs after validation with the chosen subprotocol.
    init(
        maxFrameSize: Int,
        offeredSubprotocols: [String],
        upgraded: @escaping @Sendable (Channel, String?) -> EventLoopFuture<UpgradeResult>
    ) {
        self.offeredSubprotocols = offeredSubprotocols
        let offered = offeredSubprotocols
        self.inner = NIOTypedWebSocketClientUpgrader(
            maxFrameSize: maxFrameSize,
            // UpstreamFrameHandler answers protocol errors itself: NIO's WebSocketProtocolErrorHandler may close
            // the channel before later handlers see the error, which would lose the close code.
            enableAutomaticErrorHandling: false,
            upgradePipelineHandler: { channel, head in
                do {
                    let subprotocol = try HandshakeValidation.chosenSubprotocol(head.headers, offered: offered)
                    return upgraded(channel, subprotocol)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        )
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        inner.addCustom(upgradeRequestHeaders: &upgradeRequestHeaders)
        if !offeredSubprotocols.isEmpty {
            upgradeRequestHeaders.replaceOrAdd(name: "Sec-WebSocket-Protocol", value: offeredSubprotocols.joined(separator: ", "))
        }
    }

    /// Checks `Sec-WebSocket-Accept` (NIO); a failure surfaces as `NIOHTTPClientUpgradeError.upgraderDeniedUpgrade`.
    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        inner.shouldAllowUpgrade(upgradeResponse: upgradeResponse)
    }

    func upgrade(channel: Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<UpgradeResult> {
        do {
            _ = try HandshakeValidation.validate(upgradeResponse, offered: offeredSubprotocols)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.upgrade(channel: channel, upgradeResponse: upgradeResponse)
    }
}
