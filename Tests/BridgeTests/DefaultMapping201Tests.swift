import Foundation
import OCPPRPC
import Testing

@testable import Bridge

/// The default 2.0.1 mapping produces the same tag names as 1.6 where the meaning is the same.
@Suite struct DefaultMapping201Tests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func tags(_ action: String, _ request: JSONValue, response: JSONValue? = nil, extra: [String: JSONValue] = [:]) throws -> [String: JSONValue] {
        let mapping = try TagMapping.load(directory: Self.root.appendingPathComponent("mappings").path)
        let context = MappingContext(chargePointId: "CS1", now: Date(timeIntervalSince1970: 0), request: request, response: response, extra: extra)
        var result: [String: JSONValue] = [:]
        for tag in mapping.tags(for: action, version: .v201, context: context) { result[tag.name] = tag.value }
        return result
    }

    @Test func bootAndStatus() throws {
        let boot = try tags("BootNotification", ["reason": "PowerUp", "chargingStation": ["vendorName": "Acme", "model": "X2", "serialNumber": "S9", "firmwareVersion": "2.1"]])
        #expect(boot["CS1.Boot.Vendor"] == "Acme")
        #expect(boot["CS1.Boot.Model"] == "X2")
        #expect(boot["CS1.Boot.SerialNumber"] == "S9")
        #expect(boot["CS1.Boot.FirmwareVersion"] == "2.1")
        let status = try tags("StatusNotification", ["timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Occupied", "evseId": 2, "connectorId": 1])
        #expect(status == ["CS1.Connector2.Status": "Occupied"])
    }

    @Test func transactionEventsFillTheTransactionTags() throws {
        let started = try tags("TransactionEvent", [
            "eventType": "Started", "timestamp": "2026-01-01T10:00:00+01:00", "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": ["transactionId": "TX-77", "chargingState": "Charging"], "idToken": ["idToken": "CARD1", "type": "ISO14443"],
            "evse": ["id": 1, "connectorId": 1],
            "meterValue": [["timestamp": "2026-01-01T09:00:00Z", "sampledValue": [["value": 1200.5, "context": "Transaction.Begin"]]]],
        ])
        #expect(started["CS1.Connector1.Transaction.Id"] == "TX-77")
        #expect(started["CS1.Connector1.Transaction.IdTag"] == "CARD1")
        #expect(started["CS1.Connector1.Transaction.Active"] == true)
        #expect(started["CS1.Connector1.Transaction.StartTime"] == "2026-01-01T09:00:00.000Z")
        #expect(started["CS1.Connector1.Meter.Energy.Active.Import.Register"] == 1200.5)
        let ended = try tags("TransactionEvent", [
            "eventType": "Ended", "timestamp": "2026-01-01T11:00:00Z", "triggerReason": "EVDeparted", "seqNo": 3,
            "transactionInfo": ["transactionId": "TX-77", "stoppedReason": "EVDisconnected"],
        ], extra: ["evseId": 1])
        #expect(ended["CS1.Connector1.Transaction.Active"] == false)
        #expect(ended["CS1.Connector1.Transaction.Reason"] == "EVDisconnected")
        #expect(ended["CS1.Connector1.Transaction.StopTime"] == "2026-01-01T11:00:00.000Z")
        #expect(ended["CS1.Connector1.Transaction.StartTime"] == nil)
    }

    @Test func meterValuesWithPhasesAndUnits() throws {
        let meter = try tags("MeterValues", ["evseId": 1, "meterValue": [["timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
            ["value": 12.345, "unitOfMeasure": ["unit": "kWh"]],
            ["value": 230.1, "measurand": "Voltage", "phase": "L1-N", "unitOfMeasure": ["unit": "V"]],
        ]]]])
        #expect(meter["CS1.Connector1.Meter.Energy.Active.Import.Register"] == 12.345)
        #expect(meter["CS1.Connector1.Meter.Voltage.L1-N"] == 230.1)
    }

    @Test func notifyReportFillsTheDeviceModel() throws {
        let report = try tags("NotifyReport", ["requestId": 1, "generatedAt": "2026-01-01T00:00:00Z", "seqNo": 0, "reportData": [
            ["component": ["name": "OCPPCommCtrlr"], "variable": ["name": "HeartbeatInterval"],
             "variableAttribute": [["type": "Actual", "value": "300"], ["type": "MaxSet", "value": "3600"]]],
            ["component": ["name": "EVSE", "evse": ["id": 1]], "variable": ["name": "Power", "instance": "Max"],
             "variableAttribute": [["value": "22000"]]],
        ]])
        #expect(report["CS1.Variables.OCPPCommCtrlr.HeartbeatInterval"] == "300")
        #expect(report["CS1.Variables.EVSE.Power.Max"] == "22000")
        #expect(report.count == 2)
    }
}
