import OCPPRPC

/// Why a request cannot be translated to the charge point's OCPP version; nothing is sent.
public struct TranslationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the payload, in words for the caller (REST answer, script error, log).
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// The version-neutral operations (docs/ocpp201.md, "Version-neutral operations"): a 1.6 request sent to a
/// 2.0.1 charge point, or a 2.0.1 request sent to a 1.6 one, rewritten into the charge point's own version.
///
/// Only what the table names is rewritten. Members without a counterpart in the other version are left in the
/// payload, so that the caller's schema validation reports them instead of their being dropped silently. A
/// payload that is already in the charge point's version is not translated (`nil`: send it as it is).
public enum VersionTranslation {
    /// The request to send to a charge point of `version` for an operation named `action` with `payload`,
    /// translating a 1.6 operation for a 2.0.1 charge point and the reverse (docs/ocpp201.md); nil when no
    /// translation applies (the action is sent as it is).
    ///
    /// - Parameters:
    ///   - stationTransactionId: the 2.0.1 station's transaction id of the bridge's integer transaction id, or
    ///     nil when the bridge knows no such transaction on this charge point (RemoteStopTransaction).
    ///   - makeRemoteStartId: a new `remoteStartId` (RemoteStartTransaction); called only when one is sent.
    /// - Throws: `TranslationError` when the payload is in the other version's form but cannot be translated
    ///   (a required member missing or of the wrong type, an unknown transaction id, both forms mixed).
    public static func translate(
        action: String, payload: JSONValue, to version: OCPPVersion,
        stationTransactionId: (Int64) -> String?, makeRemoteStartId: () -> Int
    ) throws(TranslationError) -> (action: String, payload: JSONValue)? {
        var request = Rewrite(action: action, payload: payload)
        switch (version, action) {
        case (.v201, "RemoteStartTransaction"):
            return try request.remoteStartTo201(makeRemoteStartId: makeRemoteStartId)
        case (.v201, "RemoteStopTransaction"):
            return try request.remoteStopTo201(stationTransactionId: stationTransactionId)
        case (.v201, "Reset"):
            return try request.resetType(["Hard": "Immediate", "Soft": "OnIdle"])
        case (.v201, "ChangeAvailability"):
            return try request.changeAvailabilityTo201()
        case (.v201, "UnlockConnector"):
            return try request.unlockConnectorTo201()
        case (.v201, "TriggerMessage"):
            return try request.triggerMessageTo201()
        case (.v16, "RequestStartTransaction"):
            return try request.requestStartTo16()
        case (.v16, "RequestStopTransaction"):
            return try request.requestStopTo16()
        case (.v16, "Reset"):
            return try request.resetType(["Immediate": "Hard", "OnIdle": "Soft"])
        case (.v16, "ChangeAvailability"):
            return try request.changeAvailabilityTo16()
        case (.v16, "UnlockConnector"):
            return try request.unlockConnectorTo16()
        case (.v16, "TriggerMessage"):
            return try request.triggerMessageTo16()
        default:
            return nil
        }
    }

    /// TriggerMessage's `requestedMessage` values that are named differently, 1.6 → 2.0.1.
    static let triggeredMessages16To201 = ["DiagnosticsStatusNotification": "LogStatusNotification"]
    /// TriggerMessage's `requestedMessage` values that are named differently, 2.0.1 → 1.6.
    static let triggeredMessages201To16 = ["LogStatusNotification": "DiagnosticsStatusNotification"]
}

/// A request payload being rewritten: members are taken out as they are translated, and put in under their
/// new names; whatever is not taken stays.
private struct Rewrite {
    /// The action as the caller named it, for error messages.
    let action: String
    let isObject: Bool
    var members: [String: JSONValue]

    init(action: String, payload: JSONValue) {
        self.action = action
        self.isObject = payload.objectValue != nil
        self.members = payload.objectValue ?? [:]
    }

    /// The payload with `action`, as `translate` returns it.
    func result(_ action: String) -> (action: String, payload: JSONValue) {
        (action, .object(members))
    }

    func failure(_ reason: String) -> TranslationError {
        TranslationError("\(action): \(reason)")
    }

    /// The error for a missing required member.
    func missing(_ key: String) -> TranslationError {
        isObject ? failure("missing \(key)") : failure("the payload must be a JSON object")
    }

    /// Removes the member `key` and returns it.
    mutating func take(_ key: String) -> JSONValue? {
        members.removeValue(forKey: key)
    }

    /// Removes the member `key`, which must be present.
    mutating func takeRequired(_ key: String) throws(TranslationError) -> JSONValue {
        guard let value = take(key) else { throw missing(key) }
        return value
    }

    /// Removes the string member `key`, which must be present.
    mutating func takeString(_ key: String) throws(TranslationError) -> String {
        guard let value = try takeRequired(key).stringValue else { throw failure("\(key) must be a string") }
        return value
    }

    /// Removes the integer member `key`; nil when it is absent.
    mutating func takeInt(_ key: String) throws(TranslationError) -> Int64? {
        guard let value = take(key) else { return nil }
        guard let number = value.intValue else { throw failure("\(key) must be an integer") }
        return number
    }

    /// Removes the integer member `key`, which must be present.
    mutating func takeRequiredInt(_ key: String) throws(TranslationError) -> Int64 {
        guard let number = try takeInt(key) else { throw missing(key) }
        return number
    }

    /// Removes a 2.0.1 `evse` and returns its id, the 1.6 connector id; nil when there is none. A 1.6
    /// connector is a 2.0.1 EVSE with one connector, so `evse.connectorId` may only be 1.
    mutating func takeEVSEId() throws(TranslationError) -> Int64? {
        guard let evse = take("evse") else { return nil }
        guard let members = evse.objectValue else { throw failure("evse must be an object") }
        guard let id = members["id"]?.intValue else { throw failure("evse.id must be an integer") }
        if let connector = members["connectorId"], connector.intValue != 1 {
            throw failure("evse.connectorId must be 1 for a 1.6 charge point (one connector per EVSE)")
        }
        if let other = members.keys.sorted().first(where: { $0 != "id" && $0 != "connectorId" }) {
            throw failure("evse.\(other) has no OCPP 1.6 counterpart")
        }
        return id
    }

    /// Removes a 2.0.1 `connectorId`, the connector within an EVSE, which must be 1 (or absent) for a 1.6
    /// charge point.
    mutating func takeConnectorWithinEVSE() throws(TranslationError) {
        if let connector = take("connectorId"), connector.intValue != 1 {
            throw failure("connectorId must be 1 for a 1.6 charge point (one connector per EVSE)")
        }
    }

    /// Adds the member `key` (nothing for nil). A member of that name still in the payload means it mixes
    /// both versions' forms.
    mutating func put(_ key: String, _ value: JSONValue?) throws(TranslationError) {
        guard let value else { return }
        guard members[key] == nil else { throw mixed(key) }
        members[key] = value
    }

    /// The error for a member of the target version's form in a payload of the other version's form.
    func mixed(_ key: String) -> TranslationError {
        failure("the payload mixes OCPP 1.6 and 2.0.1 members (\(key))")
    }

    /// The 2.0.1 `evse` of 1.6 connector `connectorId`: none for 0 (the whole charge point), `{id: n}` otherwise,
    /// with connector 1 of the EVSE when `withConnector`.
    func evse(ofConnector connectorId: Int64, withConnector: Bool = false) throws(TranslationError) -> JSONValue? {
        guard connectorId >= 0 else { throw failure("connectorId must not be negative") }
        guard connectorId > 0 else { return nil }
        return withConnector ? ["id": .int(connectorId), "connectorId": 1] : ["id": .int(connectorId)]
    }

    // MARK: 1.6 → 2.0.1

    /// RemoteStartTransaction {idTag, connectorId?, chargingProfile?} → RequestStartTransaction
    /// {idToken: {idToken, type: Central}, remoteStartId, evseId?, chargingProfile?}.
    mutating func remoteStartTo201(makeRemoteStartId: () -> Int) throws(TranslationError) -> (action: String, payload: JSONValue) {
        let idTag = try takeString("idTag")
        let connectorId = try takeInt("connectorId")
        try put("idToken", ["idToken": .string(idTag), "type": "Central"])
        try put("evseId", connectorId.map(JSONValue.int))
        guard members["remoteStartId"] == nil else { throw mixed("remoteStartId") }
        try put("remoteStartId", .int(Int64(makeRemoteStartId())))
        return result("RequestStartTransaction")
    }

    /// RemoteStopTransaction {transactionId} → RequestStopTransaction {transactionId: the station's id}: a
    /// string is the station's id already; an integer is the bridge's id, looked up.
    mutating func remoteStopTo201(stationTransactionId: (Int64) -> String?) throws(TranslationError) -> (action: String, payload: JSONValue) {
        let transactionId = try takeRequired("transactionId")
        if case .string = transactionId {
            try put("transactionId", transactionId)
        } else if let bridgeId = transactionId.intValue {
            guard let stationId = stationTransactionId(bridgeId) else {
                throw failure("no transaction \(bridgeId) is known on this charge point")
            }
            try put("transactionId", .string(stationId))
        } else {
            throw failure("transactionId must be an integer (the bridge's id) or a string (the station's id)")
        }
        return result("RequestStopTransaction")
    }

    /// ChangeAvailability {connectorId, type} → {operationalStatus: type, evse: {id: connectorId}} (no evse for
    /// connector 0); nil when the payload has `operationalStatus` already.
    mutating func changeAvailabilityTo201() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        guard members["operationalStatus"] == nil else { return nil }
        let type = try takeRequired("type")
        let connectorId = try takeRequiredInt("connectorId")
        try put("operationalStatus", type)
        try put("evse", evse(ofConnector: connectorId))
        return result(action)
    }

    /// UnlockConnector {connectorId: n} → {evseId: n, connectorId: 1}; nil when the payload has `evseId` already.
    mutating func unlockConnectorTo201() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        guard members["evseId"] == nil else { return nil }
        let connectorId = try takeRequiredInt("connectorId")
        try put("evseId", .int(connectorId))
        try put("connectorId", 1)
        return result(action)
    }

    /// TriggerMessage {requestedMessage, connectorId?} → {requestedMessage (renamed), evse?}: `evse {id: n}` for
    /// connector n > 0, with connector 1 for StatusNotification. nil when the payload has neither `connectorId`
    /// nor a 1.6-only message name (it means the same in both versions).
    mutating func triggerMessageTo201() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        let renames = VersionTranslation.triggeredMessages16To201
        let named16 = members["requestedMessage"]?.stringValue.map { renames[$0] != nil } ?? false
        guard members["connectorId"] != nil || named16 else { return nil }
        let message = try takeString("requestedMessage")
        let connectorId = try takeInt("connectorId")
        try put("requestedMessage", .string(renames[message] ?? message))
        if let connectorId {
            try put("evse", evse(ofConnector: connectorId, withConnector: message == "StatusNotification"))
        }
        return result(action)
    }

    // MARK: 2.0.1 → 1.6

    /// RequestStartTransaction {idToken: {idToken}, remoteStartId, evseId?, chargingProfile?} →
    /// RemoteStartTransaction {idTag, connectorId?, chargingProfile?}. 1.6 has no remoteStartId and no token
    /// type; they are dropped.
    mutating func requestStartTo16() throws(TranslationError) -> (action: String, payload: JSONValue) {
        let idToken = try takeRequired("idToken")
        guard let idTag = idToken["idToken"]?.stringValue else { throw failure("idToken.idToken must be a string") }
        _ = take("remoteStartId")
        let evseId = try takeInt("evseId")
        try put("idTag", .string(idTag))
        try put("connectorId", evseId.map(JSONValue.int))
        return result("RemoteStartTransaction")
    }

    /// RequestStopTransaction {transactionId: "123"} → RemoteStopTransaction {transactionId: 123}.
    mutating func requestStopTo16() throws(TranslationError) -> (action: String, payload: JSONValue) {
        let transactionId = try takeRequired("transactionId")
        let number: Int64?
        if case .string(let text) = transactionId { number = Int64(text) } else { number = transactionId.intValue }
        guard let number else {
            throw failure("transactionId must be a 1.6 transaction id (an integer), not \(Self.describe(transactionId))")
        }
        try put("transactionId", .int(number))
        return result("RemoteStopTransaction")
    }

    /// ChangeAvailability {operationalStatus, evse?} → {connectorId: evse.id or 0, type}; nil when the payload
    /// has no `operationalStatus` (it is in 1.6 form).
    mutating func changeAvailabilityTo16() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        guard let status = take("operationalStatus") else { return nil }
        let connectorId = try takeEVSEId() ?? 0
        try put("connectorId", .int(connectorId))
        try put("type", status)
        return result(action)
    }

    /// UnlockConnector {evseId, connectorId: 1} → {connectorId: evseId}; nil when the payload has no `evseId`.
    mutating func unlockConnectorTo16() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        guard members["evseId"] != nil else { return nil }
        let evseId = try takeRequiredInt("evseId")
        try takeConnectorWithinEVSE()
        try put("connectorId", .int(evseId))
        return result(action)
    }

    /// TriggerMessage {requestedMessage, evse?} → {requestedMessage (renamed), connectorId: evse.id?}; nil when
    /// the payload has neither `evse` nor a 2.0.1 name that 1.6 calls differently.
    mutating func triggerMessageTo16() throws(TranslationError) -> (action: String, payload: JSONValue)? {
        let renames = VersionTranslation.triggeredMessages201To16
        let named201 = members["requestedMessage"]?.stringValue.map { renames[$0] != nil } ?? false
        guard members["evse"] != nil || named201 else { return nil }
        let message = try takeString("requestedMessage")
        let connectorId = try takeEVSEId()
        try put("requestedMessage", .string(renames[message] ?? message))
        try put("connectorId", connectorId.map(JSONValue.int))
        return result(action)
    }

    // MARK: Both ways

    /// Reset {type}: a `type` among `renames`' keys is renamed; nil when it is one of the values already.
    mutating func resetType(_ renames: [String: String]) throws(TranslationError) -> (action: String, payload: JSONValue)? {
        // A type of neither version is left to the schema validation, which names the violation.
        guard let type = members["type"]?.stringValue, let renamed = renames[type] else { return nil }
        members["type"] = .string(renamed)
        return result(action)
    }

    /// A JSON value in an error message.
    static func describe(_ value: JSONValue) -> String {
        if case .string(let text) = value { return "\"\(text)\"" }
        return "a JSON \(value.typeName)"
    }
}
