import OCPP16
import OCPPRPC
import Testing

/// The action table: exactly MISSION.md's 28 actions, with the specification's initiators.
@Suite struct ActionTests {
    static let chargePointInitiated: Set<String> = [
        "Authorize", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
        "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction",
    ]

    @Test func hasThe28Actions() {
        #expect(OCPP16Actions.all.count == 28)
        #expect(OCPP16Actions.descriptor(for: "SignCertificate") == nil)
        #expect(OCPP16Actions.descriptor(for: "ExtendedTriggerMessage") == nil)
        #expect(OCPP16Actions.descriptor(for: "GetLog") == nil)
    }

    @Test func initiatorsFollowTheSpecification() {
        for (name, descriptor) in OCPP16Actions.all {
            #expect(descriptor.name == name)
            let expected: ActionInitiator =
                Self.chargePointInitiated.contains(name) ? .chargePoint : name == "DataTransfer" ? .both : .csms
            #expect(descriptor.initiator == expected, "\(name)")
        }
    }

    @Test func descriptorsValidatePayloads() throws {
        let authorize = try #require(OCPP16Actions.descriptor(for: "Authorize"))
        try authorize.validateRequest(["idTag": "04A2B3C4D5E6F7"])
        try authorize.validateResponse(["idTagInfo": ["status": "Accepted"]])
        #expect(throws: PayloadError.self) { try authorize.validateRequest([:]) }
        #expect(throws: PayloadError.self) { try authorize.validateResponse(["idTagInfo": ["status": "Maybe"]]) }
    }
}
