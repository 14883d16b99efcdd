import Foundation

/// A message to queue for an upstream CSMS (proxy mode) while it is unreachable.
public struct NewUpstreamMessage: Sendable, Hashable {
    /// The upstream's configured name, e.g. "primary".
    public var upstream: String
    /// The charge point the message came from.
    public var chargePoint: String
    /// The OCPP action, e.g. "StartTransaction".
    public var action: String
    /// The request payload as JSON text, with the bridge's local transactionId.
    public var payload: String
    /// The local transaction id the message belongs to, nil if none.
    public var localTransactionId: Int64?

    /// Creates a message to queue.
    public init(upstream: String, chargePoint: String, action: String, payload: String, localTransactionId: Int64? = nil) {
        self.upstream = upstream
        self.chargePoint = chargePoint
        self.action = action
        self.payload = payload
        self.localTransactionId = localTransactionId
    }
}

/// A message queued for an upstream CSMS, waiting for its acknowledgement.
public struct UpstreamQueueEntry: Sendable, Hashable {
    /// The queue position; strictly increasing, never reused.
    public var seq: Int64
    /// The upstream's configured name.
    public var upstream: String
    /// The charge point the message came from.
    public var chargePoint: String
    /// The OCPP action.
    public var action: String
    /// The request payload as JSON text, with the bridge's local transactionId.
    public var payload: String
    /// The local transaction id the message belongs to, nil if none.
    public var localTransactionId: Int64?
    /// When the bridge queued it (kept to the millisecond).
    public var createdAt: Date
    /// Sends that got no acknowledgement so far.
    public var attempts: Int
    /// Why the last send failed, nil if none did.
    public var lastError: String?
}
