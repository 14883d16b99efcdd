import Foundation

/// A StartTransaction as the charge point sent it.
public struct TransactionStart: Sendable, Hashable {
    /// The charge point id.
    public var chargePoint: String
    /// The connector (1.6) or EVSE (2.0.1) id.
    public var connectorId: Int
    /// The idTag that starts the transaction.
    public var idTag: String
    /// The meter reading at start, in Wh.
    public var meterStart: Int64
    /// The start time reported by the charge point (kept to the millisecond).
    public var timestamp: Date
    /// The id the charging station gave the transaction (OCPP 2.0.1); nil for 1.6.
    public var stationTransactionId: String?

    /// Creates a start record.
    public init(
        chargePoint: String, connectorId: Int, idTag: String, meterStart: Int64, timestamp: Date,
        stationTransactionId: String? = nil
    ) {
        self.chargePoint = chargePoint
        self.connectorId = connectorId
        self.idTag = idTag
        self.meterStart = meterStart
        self.timestamp = timestamp
        self.stationTransactionId = stationTransactionId
    }
}

/// A StopTransaction as the charge point sent it.
public struct TransactionStop: Sendable, Hashable {
    /// The transaction id the bridge gave at start.
    public var transactionId: Int64
    /// The idTag that stopped the transaction, if sent.
    public var idTag: String?
    /// The meter reading at stop, in Wh.
    public var meterStop: Int64
    /// The stop time reported by the charge point (kept to the millisecond).
    public var timestamp: Date
    /// The stop reason ("Local", "Remote", ...), if sent.
    public var reason: String?
    /// The transactionData meter values as JSON text, if sent.
    public var transactionData: String?

    /// Creates a stop record.
    public init(
        transactionId: Int64, idTag: String? = nil, meterStop: Int64, timestamp: Date,
        reason: String? = nil, transactionData: String? = nil
    ) {
        self.transactionId = transactionId
        self.idTag = idTag
        self.meterStop = meterStop
        self.timestamp = timestamp
        self.reason = reason
        self.transactionData = transactionData
    }
}

/// A stored transaction, running or stopped.
public struct TransactionRecord: Sendable, Hashable {
    /// The transaction id given to the charge point; never reused.
    public var id: Int64
    /// The charge point id.
    public var chargePoint: String
    /// The connector (1.6) or EVSE (2.0.1) id.
    public var connectorId: Int
    /// The idTag that started it.
    public var idTag: String
    /// The meter reading at start, in Wh.
    public var meterStart: Int64
    /// The start time reported by the charge point.
    public var startTime: Date
    /// The meter reading at stop, nil while running.
    public var meterStop: Int64?
    /// The stop time reported by the charge point, nil while running.
    public var stopTime: Date?
    /// The idTag that stopped it, if sent.
    public var stopIdTag: String?
    /// The stop reason, if sent.
    public var reason: String?
    /// The transactionData meter values as JSON text, if sent.
    public var transactionData: String?
    /// When the bridge stored the start.
    public var createdAt: Date
    /// The id the charging station gave the transaction (OCPP 2.0.1); nil for 1.6.
    public var stationTransactionId: String? = nil

    /// Whether the transaction has not been stopped yet.
    public var isActive: Bool { stopTime == nil }

    /// True when `startTransaction` found this record already stored: the charge point resent a
    /// StartTransaction it got no answer to.
    public var isResend = false
}
