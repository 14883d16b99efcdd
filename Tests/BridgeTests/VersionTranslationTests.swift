import OCPP16
import OCPP201
import OCPPRPC
import Testing

@testable import Bridge

/// The version-neutral operations of docs/ocpp201.md: 1.6 requests for a 2.0.1 charge point and the reverse.
@Suite struct VersionTranslationTests {
    /// A translated request, comparable.
    struct Translated: Equatable, CustomStringConvertible {
        var action: String
        var payload: JSONValue
        init(_ action: String, _ payload: JSONValue) {
            self.action = action
            self.payload = payload
        }
        var description: String { "\(action) \(payload)" }
    }

    /// The bridge's transactions on the test charge point: bridge id → station id.
    static let stationIds: [Int64: String] = [42: "TX-42", 7: "a1b2c3"]

    func translate(_ action: String, _ payload: JSONValue, to version: OCPPVersion, remoteStartId: Int = 900) throws(TranslationError) -> Translated? {
        let result = try VersionTranslation.translate(
            action: action, payload: payload, to: version,
            stationTransactionId: { Self.stationIds[$0] }, makeRemoteStartId: { remoteStartId })
        return result.map { Translated($0.action, $0.payload) }
    }

    func to201(_ action: String, _ payload: JSONValue) throws(TranslationError) -> Translated? {
        try translate(action, payload, to: .v201)
    }

    func to16(_ action: String, _ payload: JSONValue) throws(TranslationError) -> Translated? {
        try translate(action, payload, to: .v16)
    }

    /// The reason of the TranslationError that translating throws; nil when it throws none.
    func failure(_ action: String, _ payload: JSONValue, to version: OCPPVersion) -> String? {
        do {
            _ = try translate(action, payload, to: version)
            return nil
        } catch {
            return error.reason
        }
    }

    // MARK: RemoteStartTransaction ↔ RequestStartTransaction

    @Test func remoteStartBecomesRequestStart() throws {
        let profile: JSONValue = ["id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
                                  "chargingSchedule": [["id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [["startPeriod": 0, "limit": 16.0]]]]]
        #expect(try to201("RemoteStartTransaction", ["idTag": "CARD1", "connectorId": 2, "chargingProfile": profile])
            == Translated("RequestStartTransaction", [
                "idToken": ["idToken": "CARD1", "type": "Central"], "remoteStartId": 900, "evseId": 2, "chargingProfile": profile,
            ]))
        #expect(try to201("RemoteStartTransaction", ["idTag": "CARD1"])
            == Translated("RequestStartTransaction", ["idToken": ["idToken": "CARD1", "type": "Central"], "remoteStartId": 900]))
    }

    @Test func remoteStartTakesTheRemoteStartIdFromTheBridgeOnlyWhenItSendsOne() throws {
        var made = 0
        let next = { () -> Int in made += 1; return 100 + made }
        let first = try VersionTranslation.translate(
            action: "RemoteStartTransaction", payload: ["idTag": "A"], to: .v201, stationTransactionId: { _ in nil }, makeRemoteStartId: next)
        let second = try VersionTranslation.translate(
            action: "RemoteStartTransaction", payload: ["idTag": "B"], to: .v201, stationTransactionId: { _ in nil }, makeRemoteStartId: next)
        #expect(first?.payload["remoteStartId"] == 101)
        #expect(second?.payload["remoteStartId"] == 102)
        #expect(throws: TranslationError.self) {
            try VersionTranslation.translate(
                action: "RemoteStartTransaction", payload: ["connectorId": 1], to: .v201, stationTransactionId: { _ in nil }, makeRemoteStartId: next)
        }
        #expect(made == 2)
    }

    @Test func remoteStartErrors() {
        #expect(failure("RemoteStartTransaction", ["connectorId": 1], to: .v201) == "RemoteStartTransaction: missing idTag")
        #expect(failure("RemoteStartTransaction", ["idTag": 12], to: .v201) == "RemoteStartTransaction: idTag must be a string")
        #expect(failure("RemoteStartTransaction", ["idTag": "A", "connectorId": "one"], to: .v201) == "RemoteStartTransaction: connectorId must be an integer")
        #expect(failure("RemoteStartTransaction", "CARD1", to: .v201) == "RemoteStartTransaction: the payload must be a JSON object")
        #expect(failure("RemoteStartTransaction", ["idTag": "A", "idToken": ["idToken": "B", "type": "Central"]], to: .v201)
            == "RemoteStartTransaction: the payload mixes OCPP 1.6 and 2.0.1 members (idToken)")
        #expect(failure("RemoteStartTransaction", ["idTag": "A", "remoteStartId": 5], to: .v201)
            == "RemoteStartTransaction: the payload mixes OCPP 1.6 and 2.0.1 members (remoteStartId)")
    }

    @Test func requestStartBecomesRemoteStart() throws {
        let profile: JSONValue = ["chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                                  "chargingSchedule": ["chargingRateUnit": "W", "chargingSchedulePeriod": [["startPeriod": 0, "limit": 7400.0]]]]
        #expect(try to16("RequestStartTransaction", [
            "idToken": ["idToken": "CARD1", "type": "ISO14443"], "remoteStartId": 5, "evseId": 1, "chargingProfile": profile,
        ]) == Translated("RemoteStartTransaction", ["idTag": "CARD1", "connectorId": 1, "chargingProfile": profile]))
        #expect(try to16("RequestStartTransaction", ["idToken": ["idToken": "CARD1", "type": "Central"], "remoteStartId": 5])
            == Translated("RemoteStartTransaction", ["idTag": "CARD1"]))
    }

    @Test func requestStartErrors() {
        #expect(failure("RequestStartTransaction", ["remoteStartId": 5], to: .v16) == "RequestStartTransaction: missing idToken")
        #expect(failure("RequestStartTransaction", ["idToken": "CARD1", "remoteStartId": 5], to: .v16)
            == "RequestStartTransaction: idToken.idToken must be a string")
        #expect(failure("RequestStartTransaction", ["idToken": ["type": "Central"], "remoteStartId": 5], to: .v16)
            == "RequestStartTransaction: idToken.idToken must be a string")
        #expect(failure("RequestStartTransaction", ["idToken": ["idToken": "A", "type": "Central"], "evseId": 1.5], to: .v16)
            == "RequestStartTransaction: evseId must be an integer")
    }

    // MARK: RemoteStopTransaction ↔ RequestStopTransaction

    @Test func remoteStopLooksUpTheBridgesTransactionId() throws {
        #expect(try to201("RemoteStopTransaction", ["transactionId": 42]) == Translated("RequestStopTransaction", ["transactionId": "TX-42"]))
        #expect(try to201("RemoteStopTransaction", ["transactionId": 7.0]) == Translated("RequestStopTransaction", ["transactionId": "a1b2c3"]))
    }

    @Test func remoteStopKeepsAStationTransactionId() throws {
        var lookedUp = false
        let result = try VersionTranslation.translate(
            action: "RemoteStopTransaction", payload: ["transactionId": "42"], to: .v201,
            stationTransactionId: { _ in lookedUp = true; return "other" }, makeRemoteStartId: { 0 })
        #expect(result?.action == "RequestStopTransaction")
        #expect(result?.payload == ["transactionId": "42"])
        #expect(!lookedUp)
    }

    @Test func remoteStopErrors() {
        #expect(failure("RemoteStopTransaction", ["transactionId": 43], to: .v201) == "RemoteStopTransaction: no transaction 43 is known on this charge point")
        #expect(failure("RemoteStopTransaction", [:], to: .v201) == "RemoteStopTransaction: missing transactionId")
        #expect(failure("RemoteStopTransaction", ["transactionId": true], to: .v201)
            == "RemoteStopTransaction: transactionId must be an integer (the bridge's id) or a string (the station's id)")
    }

    @Test func requestStopBecomesRemoteStop() throws {
        #expect(try to16("RequestStopTransaction", ["transactionId": "123"]) == Translated("RemoteStopTransaction", ["transactionId": 123]))
        #expect(try to16("RequestStopTransaction", ["transactionId": 123]) == Translated("RemoteStopTransaction", ["transactionId": 123]))
    }

    @Test func requestStopErrors() {
        #expect(failure("RequestStopTransaction", ["transactionId": "TX-42"], to: .v16)
            == "RequestStopTransaction: transactionId must be a 1.6 transaction id (an integer), not \"TX-42\"")
        #expect(failure("RequestStopTransaction", ["transactionId": "1.5"], to: .v16)
            == "RequestStopTransaction: transactionId must be a 1.6 transaction id (an integer), not \"1.5\"")
        #expect(failure("RequestStopTransaction", ["transactionId": 1.5], to: .v16)
            == "RequestStopTransaction: transactionId must be a 1.6 transaction id (an integer), not a JSON number")
        #expect(failure("RequestStopTransaction", [:], to: .v16) == "RequestStopTransaction: missing transactionId")
    }

    // MARK: Reset

    @Test func resetTypesBothWays() throws {
        #expect(try to201("Reset", ["type": "Hard"]) == Translated("Reset", ["type": "Immediate"]))
        #expect(try to201("Reset", ["type": "Soft"]) == Translated("Reset", ["type": "OnIdle"]))
        #expect(try to16("Reset", ["type": "Immediate"]) == Translated("Reset", ["type": "Hard"]))
        #expect(try to16("Reset", ["type": "OnIdle"]) == Translated("Reset", ["type": "Soft"]))
        // Members without a counterpart stay, for schema validation to report.
        #expect(try to16("Reset", ["type": "OnIdle", "evseId": 1]) == Translated("Reset", ["type": "Soft", "evseId": 1]))
    }

    @Test func resetInTheChargePointsVersionIsSentAsItIs() throws {
        #expect(try to201("Reset", ["type": "Immediate"]) == nil)
        #expect(try to201("Reset", ["type": "OnIdle", "evseId": 2]) == nil)
        #expect(try to16("Reset", ["type": "Hard"]) == nil)
        #expect(try to16("Reset", ["type": "Soft"]) == nil)
    }

    @Test func aResetTypeOfNeitherVersionIsLeftToTheSchemaValidation() throws {
        #expect(try to201("Reset", ["type": "Warm"]) == nil)
        #expect(try to201("Reset", [:]) == nil)
        #expect(try to16("Reset", ["type": 1]) == nil)
    }

    // MARK: ChangeAvailability

    @Test func changeAvailabilityTo201() throws {
        #expect(try to201("ChangeAvailability", ["connectorId": 2, "type": "Inoperative"])
            == Translated("ChangeAvailability", ["operationalStatus": "Inoperative", "evse": ["id": 2]]))
        #expect(try to201("ChangeAvailability", ["connectorId": 0, "type": "Operative"])
            == Translated("ChangeAvailability", ["operationalStatus": "Operative"]))
        #expect(try to201("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["id": 1]]) == nil)
        #expect(try to201("ChangeAvailability", ["operationalStatus": "Operative"]) == nil)
    }

    @Test func changeAvailabilityTo16() throws {
        #expect(try to16("ChangeAvailability", ["operationalStatus": "Inoperative", "evse": ["id": 2]])
            == Translated("ChangeAvailability", ["connectorId": 2, "type": "Inoperative"]))
        #expect(try to16("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["id": 3, "connectorId": 1]])
            == Translated("ChangeAvailability", ["connectorId": 3, "type": "Operative"]))
        #expect(try to16("ChangeAvailability", ["operationalStatus": "Operative"])
            == Translated("ChangeAvailability", ["connectorId": 0, "type": "Operative"]))
        #expect(try to16("ChangeAvailability", ["connectorId": 1, "type": "Operative"]) == nil)
    }

    @Test func changeAvailabilityErrors() {
        #expect(failure("ChangeAvailability", ["connectorId": 1], to: .v201) == "ChangeAvailability: missing type")
        #expect(failure("ChangeAvailability", ["type": "Operative"], to: .v201) == "ChangeAvailability: missing connectorId")
        #expect(failure("ChangeAvailability", ["type": "Operative", "connectorId": -1], to: .v201)
            == "ChangeAvailability: connectorId must not be negative")
        #expect(failure("ChangeAvailability", ["type": "Operative", "connectorId": 1, "evse": ["id": 1]], to: .v201)
            == "ChangeAvailability: the payload mixes OCPP 1.6 and 2.0.1 members (evse)")
        #expect(failure("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["id": 1, "connectorId": 2]], to: .v16)
            == "ChangeAvailability: evse.connectorId must be 1 for a 1.6 charge point (one connector per EVSE)")
        #expect(failure("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["connectorId": 1]], to: .v16)
            == "ChangeAvailability: evse.id must be an integer")
        #expect(failure("ChangeAvailability", ["operationalStatus": "Operative", "evse": 1], to: .v16) == "ChangeAvailability: evse must be an object")
        #expect(failure("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["id": 1, "customData": ["vendorId": "x"]]], to: .v16)
            == "ChangeAvailability: evse.customData has no OCPP 1.6 counterpart")
        #expect(failure("ChangeAvailability", ["operationalStatus": "Operative", "type": "Operative"], to: .v16)
            == "ChangeAvailability: the payload mixes OCPP 1.6 and 2.0.1 members (type)")
    }

    // MARK: UnlockConnector

    @Test func unlockConnectorBothWays() throws {
        #expect(try to201("UnlockConnector", ["connectorId": 2]) == Translated("UnlockConnector", ["evseId": 2, "connectorId": 1]))
        #expect(try to201("UnlockConnector", ["evseId": 2, "connectorId": 1]) == nil)
        #expect(try to16("UnlockConnector", ["evseId": 2, "connectorId": 1]) == Translated("UnlockConnector", ["connectorId": 2]))
        #expect(try to16("UnlockConnector", ["evseId": 3]) == Translated("UnlockConnector", ["connectorId": 3]))
        #expect(try to16("UnlockConnector", ["connectorId": 2]) == nil)
    }

    @Test func unlockConnectorErrors() {
        #expect(failure("UnlockConnector", [:], to: .v201) == "UnlockConnector: missing connectorId")
        #expect(failure("UnlockConnector", ["connectorId": "2"], to: .v201) == "UnlockConnector: connectorId must be an integer")
        #expect(failure("UnlockConnector", ["evseId": 2, "connectorId": 2], to: .v16)
            == "UnlockConnector: connectorId must be 1 for a 1.6 charge point (one connector per EVSE)")
        #expect(failure("UnlockConnector", ["evseId": "2", "connectorId": 1], to: .v16) == "UnlockConnector: evseId must be an integer")
    }

    // MARK: TriggerMessage

    @Test func triggerMessageTo201() throws {
        #expect(try to201("TriggerMessage", ["requestedMessage": "StatusNotification", "connectorId": 2])
            == Translated("TriggerMessage", ["requestedMessage": "StatusNotification", "evse": ["id": 2, "connectorId": 1]]))
        #expect(try to201("TriggerMessage", ["requestedMessage": "MeterValues", "connectorId": 1])
            == Translated("TriggerMessage", ["requestedMessage": "MeterValues", "evse": ["id": 1]]))
        #expect(try to201("TriggerMessage", ["requestedMessage": "DiagnosticsStatusNotification"])
            == Translated("TriggerMessage", ["requestedMessage": "LogStatusNotification"]))
        #expect(try to201("TriggerMessage", ["requestedMessage": "BootNotification", "connectorId": 0])
            == Translated("TriggerMessage", ["requestedMessage": "BootNotification"]))
    }

    @Test func triggerMessageTo16() throws {
        #expect(try to16("TriggerMessage", ["requestedMessage": "LogStatusNotification"])
            == Translated("TriggerMessage", ["requestedMessage": "DiagnosticsStatusNotification"]))
        #expect(try to16("TriggerMessage", ["requestedMessage": "StatusNotification", "evse": ["id": 2, "connectorId": 1]])
            == Translated("TriggerMessage", ["requestedMessage": "StatusNotification", "connectorId": 2]))
        #expect(try to16("TriggerMessage", ["requestedMessage": "MeterValues", "evse": ["id": 1]])
            == Translated("TriggerMessage", ["requestedMessage": "MeterValues", "connectorId": 1]))
    }

    @Test func triggerMessageTheSameInBothVersionsIsSentAsItIs() throws {
        for message: JSONValue in ["BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification"] {
            #expect(try to201("TriggerMessage", ["requestedMessage": message]) == nil)
            #expect(try to16("TriggerMessage", ["requestedMessage": message]) == nil)
        }
        #expect(try to201("TriggerMessage", ["requestedMessage": "LogStatusNotification", "evse": ["id": 1]]) == nil)
        #expect(try to16("TriggerMessage", ["requestedMessage": "DiagnosticsStatusNotification", "connectorId": 1]) == nil)
    }

    @Test func triggerMessageErrors() {
        #expect(failure("TriggerMessage", ["connectorId": 1], to: .v201) == "TriggerMessage: missing requestedMessage")
        #expect(failure("TriggerMessage", ["requestedMessage": "Heartbeat", "connectorId": -2], to: .v201)
            == "TriggerMessage: connectorId must not be negative")
        #expect(failure("TriggerMessage", ["requestedMessage": "StatusNotification", "connectorId": 1, "evse": ["id": 1]], to: .v201)
            == "TriggerMessage: the payload mixes OCPP 1.6 and 2.0.1 members (evse)")
        #expect(failure("TriggerMessage", ["evse": ["id": 1]], to: .v16) == "TriggerMessage: missing requestedMessage")
        #expect(failure("TriggerMessage", ["requestedMessage": "StatusNotification", "evse": ["id": 1, "connectorId": 2]], to: .v16)
            == "TriggerMessage: evse.connectorId must be 1 for a 1.6 charge point (one connector per EVSE)")
    }

    // MARK: Everything else

    @Test func otherActionsAreNotTranslated() throws {
        for action in ["ClearCache", "DataTransfer", "GetLocalListVersion", "CancelReservation", "GetConfiguration", "GetVariables", "Heartbeat"] {
            #expect(try to201(action, ["anything": 1]) == nil)
            #expect(try to16(action, ["anything": 1]) == nil)
        }
        // A charge point's own operation names are sent as they are.
        #expect(try to201("RequestStartTransaction", ["idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 1]) == nil)
        #expect(try to201("RequestStopTransaction", ["transactionId": "TX-1"]) == nil)
        #expect(try to16("RemoteStartTransaction", ["idTag": "A"]) == nil)
        #expect(try to16("RemoteStopTransaction", ["transactionId": 1]) == nil)
    }

    @Test func membersWithoutACounterpartAreLeftForValidation() throws {
        #expect(try to201("RemoteStartTransaction", ["idTag": "A", "vendorThing": true])
            == Translated("RequestStartTransaction", ["idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 900, "vendorThing": true]))
        #expect(try to16("RequestStartTransaction", ["idToken": ["idToken": "A", "type": "Central"], "remoteStartId": 1, "groupIdToken": ["idToken": "G", "type": "Central"]])
            == Translated("RemoteStartTransaction", ["idTag": "A", "groupIdToken": ["idToken": "G", "type": "Central"]]))
        #expect(try to201("UnlockConnector", ["connectorId": 1, "extra": "x"]) == Translated("UnlockConnector", ["evseId": 1, "connectorId": 1, "extra": "x"]))
    }

    // MARK: Round trips and schemas

    /// 1.6 requests that translate to 2.0.1 and back unchanged.
    static let requests16: [(String, JSONValue)] = [
        ("RemoteStartTransaction", ["idTag": "CARD1", "connectorId": 1]),
        ("RemoteStartTransaction", ["idTag": "CARD1"]),
        ("RemoteStopTransaction", ["transactionId": 42]),
        ("Reset", ["type": "Hard"]),
        ("Reset", ["type": "Soft"]),
        ("ChangeAvailability", ["connectorId": 0, "type": "Inoperative"]),
        ("ChangeAvailability", ["connectorId": 2, "type": "Operative"]),
        ("UnlockConnector", ["connectorId": 2]),
        ("TriggerMessage", ["requestedMessage": "DiagnosticsStatusNotification"]),
        ("TriggerMessage", ["requestedMessage": "StatusNotification", "connectorId": 2]),
        ("TriggerMessage", ["requestedMessage": "MeterValues", "connectorId": 1]),
    ]

    @Test func translatingThereAndBackGivesTheRequestAgain() throws {
        // Not RemoteStopTransaction: the bridge's id 42 becomes the station's "TX-42", which is no 1.6 id.
        for (action, payload) in Self.requests16 where action != "RemoteStopTransaction" {
            let there = try #require(try to201(action, payload), "\(action) \(payload)")
            let back = try #require(try to16(there.action, there.payload), "\(there)")
            #expect(back == Translated(action, payload))
        }
    }

    @Test func translatedRequestsPassTheOCPP16Schemas() throws {
        let requests201: [(String, JSONValue)] = [
            ("RequestStartTransaction", ["idToken": ["idToken": "CARD1", "type": "ISO14443"], "remoteStartId": 1, "evseId": 1]),
            ("RequestStopTransaction", ["transactionId": "77"]),
            ("Reset", ["type": "Immediate"]),
            ("Reset", ["type": "OnIdle"]),
            ("ChangeAvailability", ["operationalStatus": "Inoperative"]),
            ("ChangeAvailability", ["operationalStatus": "Operative", "evse": ["id": 2, "connectorId": 1]]),
            ("UnlockConnector", ["evseId": 2, "connectorId": 1]),
            ("TriggerMessage", ["requestedMessage": "LogStatusNotification"]),
            ("TriggerMessage", ["requestedMessage": "StatusNotification", "evse": ["id": 2, "connectorId": 1]]),
        ]
        for (action, payload) in requests201 {
            let translated = try #require(try to16(action, payload), "\(action) \(payload)")
            let descriptor = try #require(OCPP16Actions.descriptor(for: translated.action))
            #expect(throws: Never.self, "\(translated)") { try descriptor.validateOutgoingRequest(translated.payload) }
        }
    }

    @Test func translatedRequestsPassTheOCPP201Schemas() throws {
        for (action, payload) in Self.requests16 {
            let translated = try #require(try to201(action, payload), "\(action) \(payload)")
            let descriptor = try #require(OCPP201Actions.descriptor(for: translated.action))
            #expect(throws: Never.self, "\(translated)") { try descriptor.validateOutgoingRequest(translated.payload) }
        }
        // A member without a 2.0.1 counterpart is left in, and the schema rejects it.
        let unknown = try #require(try to201("RemoteStartTransaction", ["idTag": "A", "vendorThing": true]))
        let descriptor = try #require(OCPP201Actions.descriptor(for: unknown.action))
        #expect(throws: PayloadError.self) { try descriptor.validateOutgoingRequest(unknown.payload) }
    }
}
