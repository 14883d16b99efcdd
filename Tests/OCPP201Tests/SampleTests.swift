import Foundation
import OCPP201
import OCPPRPC
import Testing

/// Hand-written messages as real charging stations and CSMSs send them: each decodes, keeps its values and
/// round-trips to the same JSON.
@Suite struct SampleTests {
    /// Decodes `text`, checks that encoding gives the same JSON and that decoding that again gives an equal value.
    @discardableResult
    func roundTrip<Payload: OCPPPayload>(_ type: Payload.Type, _ text: String) throws -> Payload {
        let json = try JSONValue(parsing: text)
        let first = try Payload(json: json)
        #expect(first.json == json)
        #expect(try Payload(json: first.json) == first)
        return first
    }

    @Test func bootNotification() throws {
        let request = try roundTrip(BootNotificationRequest.self, """
            {"reason": "PowerUp", "chargingStation": {"model": "Wallbox-22", "vendorName": "ACME",
             "serialNumber": "CS-000123", "firmwareVersion": "2.1.0",
             "modem": {"iccid": "8931440400012345678", "imsi": "262011234567890"}}}
            """)
        #expect(request.reason == .powerUp)
        #expect(request.chargingStation.vendorName == "ACME")
        let response = try roundTrip(BootNotificationResponse.self, """
            {"currentTime": "2026-01-02T03:04:05.123Z", "interval": 300, "status": "Accepted",
             "statusInfo": {"reasonCode": "OK", "additionalInfo": "welcome"}}
            """)
        #expect(response.status == .accepted)
        #expect(response.interval == 300)
    }

    @Test func heartbeatAndStatusNotification() throws {
        try roundTrip(HeartbeatRequest.self, "{}")
        try roundTrip(HeartbeatResponse.self, #"{"currentTime": "2026-01-02T03:04:05.000Z"}"#)
        let status = try roundTrip(StatusNotificationRequest.self, """
            {"timestamp": "2026-01-02T03:04:05.000Z", "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}
            """)
        #expect(status.connectorStatus == .occupied)
        try roundTrip(StatusNotificationResponse.self, "{}")
    }

    static let idToken = #"{"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"}"#

    @Test func transactionEventStartedUpdatedEnded() throws {
        let started = try roundTrip(TransactionEventRequest.self, """
            {"eventType": "Started", "timestamp": "2026-01-02T03:04:05.000Z", "triggerReason": "Authorized",
             "seqNo": 0, "transactionInfo": {"transactionId": "TX-4711", "chargingState": "EVConnected"},
             "evse": {"id": 1, "connectorId": 1}, "idToken": \(Self.idToken),
             "meterValue": [{"timestamp": "2026-01-02T03:04:05.000Z",
               "sampledValue": [{"value": 12345.5, "measurand": "Energy.Active.Import.Register",
                                 "context": "Transaction.Begin", "unitOfMeasure": {"unit": "Wh"}}]}]}
            """)
        #expect(started.eventType == .started)
        #expect(started.idToken?.type == .iso14443)
        #expect(started.meterValue?[0].sampledValue[0].value == 12345.5)
        let updated = try roundTrip(TransactionEventRequest.self, """
            {"eventType": "Updated", "timestamp": "2026-01-02T03:19:05.000Z", "triggerReason": "MeterValuePeriodic",
             "seqNo": 1, "transactionInfo": {"transactionId": "TX-4711", "chargingState": "Charging"},
             "meterValue": [{"timestamp": "2026-01-02T03:19:05.000Z",
               "sampledValue": [{"value": 15321.25, "measurand": "Energy.Active.Import.Register"},
                                {"value": 16.1, "measurand": "Current.Import", "phase": "L1"},
                                {"value": 7.36, "measurand": "Power.Active.Import",
                                 "unitOfMeasure": {"unit": "kW", "multiplier": 0}}]}]}
            """)
        #expect(updated.meterValue?[0].sampledValue.map(\.value) == [15321.25, 16.1, 7.36])
        let ended = try roundTrip(TransactionEventRequest.self, """
            {"eventType": "Ended", "timestamp": "2026-01-02T04:04:05.000Z", "triggerReason": "EVCommunicationLost",
             "seqNo": 2, "offline": false,
             "transactionInfo": {"transactionId": "TX-4711", "stoppedReason": "EVDisconnected",
                                 "timeSpentCharging": 3600},
             "meterValue": [{"timestamp": "2026-01-02T04:04:05.000Z",
               "sampledValue": [{"value": 34567.75, "context": "Transaction.End"}]}]}
            """)
        #expect(ended.transactionInfo.stoppedReason == .evDisconnected)
        try roundTrip(TransactionEventResponse.self, """
            {"totalCost": 12.5, "idTokenInfo": {"status": "Accepted", "groupIdToken": \(Self.idToken)}}
            """)
    }

    @Test func integerMeterValueIsANumber() throws {
        let text = """
            {"evseId": 1, "meterValue": [{"timestamp": "2026-01-02T03:04:05.000Z", "sampledValue": [{"value": 1234}]}]}
            """
        let request = try MeterValuesRequest(json: try JSONValue(parsing: text))
        #expect(request.meterValue[0].sampledValue[0].value == 1234)
    }

    @Test func getAndSetVariables() throws {
        let get = try roundTrip(GetVariablesRequest.self, """
            {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
              "attributeType": "Actual"},
             {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power", "instance": "Max"}}]}
            """)
        #expect(get.getVariableData.count == 2)
        try roundTrip(GetVariablesResponse.self, """
            {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300",
              "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
            """)
        try roundTrip(SetVariablesRequest.self, """
            {"setVariableData": [{"attributeValue": "600", "component": {"name": "OCPPCommCtrlr"},
              "variable": {"name": "HeartbeatInterval"}}]}
            """)
        let set = try roundTrip(SetVariablesResponse.self, """
            {"setVariableResult": [{"attributeStatus": "RebootRequired", "component": {"name": "OCPPCommCtrlr"},
              "variable": {"name": "HeartbeatInterval"}}]}
            """)
        #expect(set.setVariableResult[0].attributeStatus == .rebootRequired)
    }

    @Test func notifyReport() throws {
        let report = try roundTrip(NotifyReportRequest.self, """
            {"requestId": 42, "generatedAt": "2026-01-02T03:04:05.000Z", "seqNo": 0, "tbc": false,
             "reportData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
               "variableAttribute": [{"type": "Actual", "value": "300", "mutability": "ReadWrite"}],
               "variableCharacteristics": {"unit": "s", "dataType": "integer", "supportsMonitoring": false}}]}
            """)
        #expect(report.reportData?[0].variableCharacteristics?.dataType == .integer)
        try roundTrip(NotifyReportResponse.self, "{}")
    }

    @Test func requestStartAndStopTransaction() throws {
        let start = try roundTrip(RequestStartTransactionRequest.self, """
            {"idToken": \(Self.idToken), "remoteStartId": 7, "evseId": 1,
             "chargingProfile": {"id": 12, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}}
            """)
        #expect(start.chargingProfile?.chargingSchedule[0].chargingSchedulePeriod[0].limit == 16)
        try roundTrip(RequestStartTransactionResponse.self, #"{"status": "Accepted", "transactionId": "TX-4711"}"#)
        try roundTrip(RequestStopTransactionRequest.self, #"{"transactionId": "TX-4711"}"#)
        try roundTrip(RequestStopTransactionResponse.self, #"{"status": "Rejected"}"#)
    }

    @Test func triggerMessageAuthorizeAndMeterValues() throws {
        let trigger = try roundTrip(TriggerMessageRequest.self, #"{"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}"#)
        #expect(trigger.requestedMessage == .statusNotification)
        try roundTrip(TriggerMessageResponse.self, #"{"status": "Accepted"}"#)
        try roundTrip(AuthorizeRequest.self, #"{"idToken": \#(Self.idToken)}"#)
        let authorized = try roundTrip(AuthorizeResponse.self, """
            {"idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": "2026-02-01T00:00:00.000Z", "evseId": [1, 2]}}
            """)
        #expect(authorized.idTokenInfo.evseId == [1, 2])
        try roundTrip(MeterValuesRequest.self, """
            {"evseId": 1, "meterValue": [{"timestamp": "2026-01-02T03:04:05.000Z",
              "sampledValue": [{"value": 230.5, "measurand": "Voltage", "phase": "L1-N", "location": "Outlet"}]}]}
            """)
        try roundTrip(MeterValuesResponse.self, "{}")
    }

    @Test func customDataAndDataTransferKeepAnyJSON() throws {
        let request = try roundTrip(DataTransferRequest.self, """
            {"vendorId": "com.acme", "messageId": "SetLed", "data": {"led": ["green", 1, null]},
             "customData": {"vendorId": "com.acme", "anything": {"nested": true}}}
            """)
        #expect(request.data == ["led": ["green", 1, nil]])
        try roundTrip(DataTransferResponse.self, #"{"status": "Accepted", "data": "ok"}"#)
    }
}
