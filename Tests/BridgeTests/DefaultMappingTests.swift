import Bridge
import OCPPRPC
import Testing

/// The default `mappings/ocpp16.yaml` produces the tag tree of the architecture contract.
@Suite struct DefaultMappingTests {
    let mapping: TagMapping

    init() throws {
        mapping = try TagMapping.load(directory: MappingTestSupport.mappingsDirectory)
    }

    func tags(_ action: String, _ request: String, response: String? = nil, extra: [String: JSONValue] = [:])
        -> [MappedTag]
    {
        mapping.tags(
            for: action, version: .v16,
            context: MappingTestSupport.context(request, response: response, extra: extra))
    }

    @Test func bootNotification() {
        let result = tags(
            "BootNotification",
            #"{"chargePointVendor": "Alfen", "chargePointModel": "NG9xx", "chargePointSerialNumber": "ACE0001","#
                + #" "chargeBoxSerialNumber": "BOX1", "firmwareVersion": "4.12.0"}"#)
        #expect(
            result == [
                MappedTag(name: "CP1.Boot.Vendor", value: "Alfen"),
                MappedTag(name: "CP1.Boot.Model", value: "NG9xx"),
                MappedTag(name: "CP1.Boot.SerialNumber", value: "ACE0001"),
                MappedTag(name: "CP1.Boot.FirmwareVersion", value: "4.12.0"),
            ])
    }

    @Test func bootSerialFallsBackToChargeBoxSerial() {
        let result = tags(
            "BootNotification", #"{"chargePointVendor": "V", "chargePointModel": "M", "chargeBoxSerialNumber": "BOX1"}"#)
        #expect(
            result == [
                MappedTag(name: "CP1.Boot.Vendor", value: "V"),
                MappedTag(name: "CP1.Boot.Model", value: "M"),
                MappedTag(name: "CP1.Boot.SerialNumber", value: "BOX1"),
            ])
    }

    @Test func heartbeatRecordsNowAsUTCTime() {
        #expect(tags("Heartbeat", "{}") == [MappedTag(name: "CP1.Heartbeat.Last", value: "2025-03-01T12:00:00.000Z")])
    }

    @Test func statusNotification() {
        let full = tags(
            "StatusNotification",
            #"{"connectorId": 2, "status": "Faulted", "errorCode": "GroundFailure", "info": "RCD tripped","#
                + #" "vendorErrorCode": "E42", "timestamp": "2025-03-01T11:59:00Z"}"#)
        #expect(
            full == [
                MappedTag(name: "CP1.Connector2.Status", value: "Faulted"),
                MappedTag(name: "CP1.Connector2.ErrorCode", value: "GroundFailure"),
                MappedTag(name: "CP1.Connector2.Info", value: "RCD tripped"),
                MappedTag(name: "CP1.Connector2.VendorErrorCode", value: "E42"),
            ])
        let minimal = tags("StatusNotification", #"{"connectorId": 0, "status": "Available", "errorCode": "NoError"}"#)
        #expect(
            minimal == [
                MappedTag(name: "CP1.Connector0.Status", value: "Available"),
                MappedTag(name: "CP1.Connector0.ErrorCode", value: "NoError"),
            ])
    }

    @Test func meterValuesWithMeasurandsPhasesUnitsAndDefaults() {
        let request = """
            {"connectorId": 1, "transactionId": 7, "meterValue": [
              {"timestamp": "2025-03-01T11:59:00Z", "sampledValue": [
                {"value": "1234.5"},
                {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh", "context": "Sample.Clock"},
                {"value": "230.1", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
                {"value": "16", "measurand": "Current.Import", "phase": "L2", "unit": "A"},
                {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"}
              ]},
              {"timestamp": "2025-03-01T12:00:00Z", "sampledValue": [{"value": "80", "measurand": "SoC", "unit": "Percent"}]}
            ]}
            """
        #expect(
            tags("MeterValues", request) == [
                MappedTag(name: "CP1.Connector1.Meter.Energy.Active.Import.Register", value: .double(1234.5), unit: "Wh"),
                MappedTag(name: "CP1.Connector1.Meter.Energy.Active.Import.Register", value: .double(12.5), unit: "kWh"),
                MappedTag(name: "CP1.Connector1.Meter.Voltage.L1-N", value: .double(230.1), unit: "V"),
                MappedTag(name: "CP1.Connector1.Meter.Current.Import.L2", value: .double(16), unit: "A"),
                MappedTag(name: "CP1.Connector1.Meter.Power.Active.Import", value: .double(7400), unit: "W"),
                MappedTag(name: "CP1.Connector1.Meter.SoC", value: .double(80), unit: "Percent"),
            ])
    }

    @Test func meterValueThatIsNotANumberProducesNoTag() {
        let request = #"{"connectorId": 0, "meterValue": [{"timestamp": "2025-03-01T12:00:00Z","#
            + #" "sampledValue": [{"value": "n/a"}, {"value": "5", "unit": "kWh"}]}]}"#
        #expect(
            tags("MeterValues", request) == [
                MappedTag(name: "CP1.Connector0.Meter.Energy.Active.Import.Register", value: .double(5), unit: "kWh")
            ])
    }

    @Test func startTransactionAccepted() {
        let result = tags(
            "StartTransaction",
            #"{"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 1000, "timestamp": "2025-03-01T13:00:00+01:00"}"#,
            response: #"{"transactionId": 42, "idTagInfo": {"status": "Accepted"}}"#)
        #expect(
            result == [
                MappedTag(name: "CP1.Connector1.Transaction.Id", value: 42),
                MappedTag(name: "CP1.Connector1.Transaction.IdTag", value: "04A2B3C4"),
                MappedTag(name: "CP1.Connector1.Transaction.Active", value: true),
                MappedTag(name: "CP1.Connector1.Transaction.MeterStart", value: 1000, unit: "Wh"),
                MappedTag(name: "CP1.Connector1.Transaction.StartTime", value: "2025-03-01T12:00:00.000Z"),
            ])
    }

    @Test func startTransactionRejectedIsNotActive() {
        let result = tags(
            "StartTransaction",
            #"{"connectorId": 1, "idTag": "BAD", "meterStart": 1000, "timestamp": "2025-03-01T12:00:00Z"}"#,
            response: #"{"transactionId": 43, "idTagInfo": {"status": "Invalid"}}"#)
        #expect(!result.contains { $0.name == "CP1.Connector1.Transaction.Active" })
        #expect(result.contains(MappedTag(name: "CP1.Connector1.Transaction.Id", value: 43)))
    }

    @Test func stopTransactionWithTransactionData() {
        let request = """
            {"transactionId": 42, "meterStop": 5400, "timestamp": "2025-03-01T14:00:00Z", "transactionData": [
              {"timestamp": "2025-03-01T13:00:00Z", "sampledValue": [{"value": "1000", "context": "Transaction.Begin"}]},
              {"timestamp": "2025-03-01T14:00:00Z", "sampledValue": [
                {"value": "5.4", "unit": "kWh", "context": "Transaction.End"},
                {"value": "31.5", "measurand": "Temperature", "unit": "Celsius"}]}
            ]}
            """
        #expect(
            tags("StopTransaction", request, response: "{}", extra: ["connectorId": 1]) == [
                MappedTag(name: "CP1.Connector1.Transaction.Active", value: false),
                MappedTag(name: "CP1.Connector1.Transaction.MeterStop", value: 5400, unit: "Wh"),
                MappedTag(name: "CP1.Connector1.Transaction.StopTime", value: "2025-03-01T14:00:00.000Z"),
                MappedTag(name: "CP1.Connector1.Transaction.Reason", value: "Local"),
                MappedTag(name: "CP1.Connector1.Meter.Energy.Active.Import.Register", value: .double(1000), unit: "Wh"),
                MappedTag(name: "CP1.Connector1.Meter.Energy.Active.Import.Register", value: .double(5.4), unit: "kWh"),
                MappedTag(name: "CP1.Connector1.Meter.Temperature", value: .double(31.5), unit: "Celsius"),
            ])
    }

    @Test func stopTransactionKeepsGivenReasonAndNeedsTheConnector() {
        let request = #"{"transactionId": 42, "meterStop": 5400, "timestamp": "2025-03-01T14:00:00Z", "reason": "EVDisconnected"}"#
        #expect(
            tags("StopTransaction", request, extra: ["connectorId": 2]).contains(
                MappedTag(name: "CP1.Connector2.Transaction.Reason", value: "EVDisconnected")))
        #expect(tags("StopTransaction", request).isEmpty)
    }

    @Test func firmwareDiagnosticsAndAuthorize() {
        #expect(
            tags("FirmwareStatusNotification", #"{"status": "Installing"}"#) == [
                MappedTag(name: "CP1.Firmware.Status", value: "Installing")
            ])
        #expect(
            tags("DiagnosticsStatusNotification", #"{"status": "Uploaded"}"#) == [
                MappedTag(name: "CP1.Diagnostics.Status", value: "Uploaded")
            ])
        #expect(
            tags("Authorize", #"{"idTag": "04A2B3C4"}"#, response: #"{"idTagInfo": {"status": "Blocked"}}"#) == [
                MappedTag(name: "CP1.Authorize.LastIdTag", value: "04A2B3C4"),
                MappedTag(name: "CP1.Authorize.LastStatus", value: "Blocked"),
            ])
        // The answer is not known yet: only the request's tag.
        #expect(
            tags("Authorize", #"{"idTag": "04A2B3C4"}"#) == [MappedTag(name: "CP1.Authorize.LastIdTag", value: "04A2B3C4")])
    }

    @Test func otherVersionsAndUnknownActionsProduceNothing() {
        #expect(tags("DataTransfer", #"{"vendorId": "X"}"#).isEmpty)
        let context = MappingTestSupport.context(#"{"connectorId": 1, "status": "Available", "errorCode": "NoError"}"#)
        #expect(mapping.tags(for: "StatusNotification", version: .v201, context: context).isEmpty)
    }

    @Test func loadingTwiceGivesIdenticalResults() throws {
        let again = try TagMapping.load(directory: MappingTestSupport.mappingsDirectory)
        #expect(again == mapping)
        #expect(again.actions(for: .v16) == mapping.actions(for: .v16))
        let request = #"{"connectorId": 1, "meterValue": [{"timestamp": "2025-03-01T12:00:00Z", "sampledValue": [{"value": "1"}]}]}"#
        #expect(tags("MeterValues", request) == again.tags(for: "MeterValues", version: .v16, context: MappingTestSupport.context(request)))
    }
}
