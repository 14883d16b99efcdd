import Foundation
import OCPP16
import OCPPRPC
import Testing

/// Each kind of schema violation, with its JSON path, on real messages.
@Suite struct ViolationTests {
    func violation<Payload: OCPPPayload>(_ type: Payload.Type, _ text: String) throws -> PayloadError? {
        do {
            _ = try Payload(json: try JSONValue(parsing: text))
            return nil
        } catch let error as PayloadError {
            return error
        }
    }

    static let meterValues = """
        {"connectorId": 1, "transactionId": 4711, "meterValue": [{"timestamp": "2026-01-02T03:04:05Z",
         "sampledValue": [{"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                          {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]}
        """

    @Test func missingIdTagIsAnOccurrenceViolation() throws {
        let error = try #require(try violation(AuthorizeRequest.self, "{}"))
        #expect(error.kind == .occurrence)
        #expect(error.path == "idTag")
        #expect(error.reason == "required field is missing")
        #expect(error.errorCode(for: .v16) == .occurenceConstraintViolation)
    }

    @Test func nullWhereRequiredIsAnOccurrenceViolation() throws {
        let error = try #require(try violation(AuthorizeRequest.self, #"{"idTag": null}"#))
        #expect(error.kind == .occurrence)
        #expect(error.path == "idTag")
    }

    @Test func stringConnectorIdIsATypeViolation() throws {
        let text = #"{"connectorId": "1", "errorCode": "NoError", "status": "Available"}"#
        let error = try #require(try violation(StatusNotificationRequest.self, text))
        #expect(error.kind == .type)
        #expect(error.path == "connectorId")
        #expect(error.reason == "expected integer, got string")
    }

    @Test func fractionalConnectorIdIsATypeViolation() throws {
        let text = #"{"connectorId": 1.5, "errorCode": "NoError", "status": "Available"}"#
        let error = try #require(try violation(StatusNotificationRequest.self, text))
        #expect(error.kind == .type)
        #expect(error.reason == "expected integer, got number")
    }

    @Test func integralNumberConnectorIdIsAccepted() throws {
        let text = #"{"connectorId": 1.0, "errorCode": "NoError", "status": "Available"}"#
        let request = try StatusNotificationRequest(json: try JSONValue(parsing: text))
        #expect(request.connectorId == 1)
        #expect(request.json["connectorId"] == .int(1))
    }

    @Test func idTagOf21CharactersIsAPropertyViolation() throws {
        let error = try #require(try violation(AuthorizeRequest.self, #"{"idTag": "123456789012345678901"}"#))
        #expect(error.kind == .property)
        #expect(error.path == "idTag")
        #expect(error.reason == "longer than 20 characters")
        #expect(try self.violation(AuthorizeRequest.self, #"{"idTag": "12345678901234567890"}"#) == nil)
    }

    @Test func unknownStatusIsAPropertyViolation() throws {
        let text = #"{"connectorId": 1, "errorCode": "NoError", "status": "Foo"}"#
        let error = try #require(try violation(StatusNotificationRequest.self, text))
        #expect(error.kind == .property)
        #expect(error.path == "status")
        #expect(error.reason.hasPrefix("'Foo' is not one of Available, Preparing, Charging"))
    }

    @Test func badTimestampIsAPropertyViolation() throws {
        let text = #"{"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "noon"}"#
        let error = try #require(try violation(StatusNotificationRequest.self, text))
        #expect(error.kind == .property)
        #expect(error.path == "timestamp")
    }

    @Test func emptyMeterValueIsAPropertyViolation() throws {
        let error = try #require(try violation(MeterValuesRequest.self, #"{"connectorId": 1, "meterValue": []}"#))
        #expect(error.kind == .property)
        #expect(error.path == "meterValue")
    }

    @Test func emptySampledValueIsAPropertyViolationInMeterValuesOnly() throws {
        let meterValues = """
            {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-02T03:04:05Z", "sampledValue": []}]}
            """
        let error = try #require(try violation(MeterValuesRequest.self, meterValues))
        #expect(error.kind == .property)
        #expect(error.path == "meterValue[0].sampledValue")
        // StopTransaction's transactionData has no minItems in the schema.
        let stop = """
            {"transactionId": 1, "meterStop": 2, "timestamp": "2026-01-02T03:04:05Z",
             "transactionData": [{"timestamp": "2026-01-02T03:04:05Z", "sampledValue": []}]}
            """
        #expect(try self.violation(StopTransactionRequest.self, stop) == nil)
    }

    @Test func hertzIsAUnitInMeterValuesButNotInStopTransaction() throws {
        let meterValues = Self.meterValues.replacingOccurrences(of: #""unit": "A""#, with: #""unit": "Hertz""#)
        #expect(try violation(MeterValuesRequest.self, meterValues) == nil)
        let stop = """
            {"transactionId": 1, "meterStop": 2, "timestamp": "2026-01-02T03:04:05Z",
             "transactionData": [{"timestamp": "2026-01-02T03:04:05Z",
                                  "sampledValue": [{"value": "50", "unit": "Hertz"}]}]}
            """
        let error = try #require(try violation(StopTransactionRequest.self, stop))
        #expect(error.kind == .property)
        #expect(error.path == "transactionData[0].sampledValue[0].unit")
    }

    @Test func nestedPathsAreReported() throws {
        let text = Self.meterValues.replacingOccurrences(of: #""value": "16.1""#, with: #""value": 16.1"#)
        let error = try #require(try violation(MeterValuesRequest.self, text))
        #expect(error.kind == .type)
        #expect(error.path == "meterValue[0].sampledValue[1].value")
        #expect(error.errorDescription == "meterValue[0].sampledValue[1].value: expected string, got number")
        #expect(error.errorDetails == ["field": "meterValue[0].sampledValue[1].value"])
    }

    @Test func unknownMembersAreIgnored() throws {
        let text = Self.meterValues.replacingOccurrences(of: #""phase": "L1""#, with: #""phase": "L1", "acme": 1"#)
        let request = try MeterValuesRequest(json: try JSONValue(parsing: #"{"vendor": true, "# + text.dropFirst()))
        #expect(request.meterValue[0].sampledValue[1].phase == .l1)
        #expect(request.json["vendor"] == nil)
    }

    @Test func payloadThatIsNotAnObjectIsAFormationViolation() throws {
        let error = try #require(try violation(AuthorizeRequest.self, "[]"))
        #expect(error.kind == .formation)
        #expect(error.path == "")
        #expect(error.errorCode(for: .v16) == .formationViolation)
        let nested = try #require(try violation(AuthorizeResponse.self, #"{"idTagInfo": "Accepted"}"#))
        #expect(nested.kind == .formation)
        #expect(nested.path == "idTagInfo")
    }

    @Test func multipleOfIsChecked() throws {
        let base = #"{"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT}]}"#
        #expect(try violation(GetCompositeScheduleResponse.self, #"{"status": "Accepted"}"#) == nil)
        func response(limit: String) -> String {
            #"{"status": "Accepted", "chargingSchedule": "# + base.replacingOccurrences(of: "LIMIT", with: limit) + "}"
        }
        // 6.3 / 0.1 is 62.99999999999999 in binary floating point; the check tolerates that.
        #expect(try violation(GetCompositeScheduleResponse.self, response(limit: "6.3")) == nil)
        let bad = response(limit: "6.35")
        let error = try #require(try violation(GetCompositeScheduleResponse.self, bad))
        #expect(error.kind == .property)
        #expect(error.path == "chargingSchedule.chargingSchedulePeriod[0].limit")
    }

    @Test func unknownEnumValuesSurviveInTheOpenType() {
        let status = ChargePointStatus(rawValue: "VendorState")
        #expect(!status.isKnown)
        #expect(ChargePointStatus.available.isKnown)
        #expect(ChargePointStatus.allValues.count == 9)
        #expect(ResetStatus.accepted == GenericStatus.accepted)
    }
}
