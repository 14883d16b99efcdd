import OCPP201
import OCPPRPC
import Testing

/// The action table: the 39 OCPP 2.0.1 actions of the brief, with the specification's initiators.
@Suite struct ActionTests {
    static let chargingStationInitiated: Set<String> = [
        "BootNotification", "Heartbeat", "StatusNotification", "NotifyReport", "Authorize", "TransactionEvent",
        "ReservationStatusUpdate", "ReportChargingProfiles", "NotifyEVChargingNeeds", "NotifyChargingLimit",
        "ClearedChargingLimit", "MeterValues", "FirmwareStatusNotification", "LogStatusNotification", "NotifyEvent",
        "SecurityEventNotification",
    ]

    @Test func hasThe39Actions() {
        #expect(OCPP201Actions.all.count == 39)
        #expect(OCPP201Actions.descriptor(for: "TransactionEvent") != nil)
        #expect(OCPP201Actions.descriptor(for: "StartTransaction") == nil)
        #expect(OCPP201Actions.descriptor(for: "RemoteStartTransaction") == nil)
        #expect(OCPP201Actions.descriptor(for: "SignCertificate") == nil)
    }

    @Test func initiatorsFollowTheSpecification() {
        var counts: [ActionInitiator: Int] = [:]
        for (name, descriptor) in OCPP201Actions.all {
            #expect(descriptor.name == name)
            let expected: ActionInitiator =
                Self.chargingStationInitiated.contains(name) ? .chargePoint : name == "DataTransfer" ? .both : .csms
            #expect(descriptor.initiator == expected, "\(name)")
            counts[descriptor.initiator, default: 0] += 1
        }
        #expect(counts == [.chargePoint: 16, .both: 1, .csms: 22])
    }

    @Test func descriptorsValidatePayloads() throws {
        let authorize = try #require(OCPP201Actions.descriptor(for: "Authorize"))
        try authorize.validateRequest(["idToken": ["idToken": "04A2B3C4D5E6F7", "type": "ISO14443"]])
        try authorize.validateResponse(["idTokenInfo": ["status": "Accepted"]])
        #expect(throws: PayloadError.self) { try authorize.validateRequest([:]) }
        #expect(throws: PayloadError.self) { try authorize.validateResponse(["idTokenInfo": ["status": "Maybe"]]) }
    }
}
