import Foundation
import OCPPRPC

/// What one simulated charge point sends: OCPP-J CALL frames, schema-valid for its protocol version.
struct Workload: Sendable {
    enum Message: String, Sendable, CaseIterable {
        case heartbeat, status, meter, authorize
    }

    var version: OCPPVersion
    var messages: [Message]
    /// Full transactions (1.6: Start, MeterValues, Stop; 2.0.1: TransactionEvent Started, Updated, Ended)
    /// instead of the message mix.
    var transactions: Bool

    func boot(id: String) -> (action: String, payload: JSONValue) {
        switch version {
        case .v16:
            return ("BootNotification", ["chargePointVendor": "ocpp-bench", "chargePointModel": "sim", "chargePointSerialNumber": .string(id)])
        case .v201:
            return ("BootNotification", ["reason": "PowerUp", "chargingStation": ["vendorName": "ocpp-bench", "model": "sim", "serialNumber": .string(id)]])
        }
    }

    /// The `step`-th CALL of a charge point; `transactionId` is the id of the 1.6 transaction running (from the
    /// StartTransaction answer), the station's id for 2.0.1.
    func call(step: Int, meter: Int64, transactionId: JSONValue?) -> (action: String, payload: JSONValue) {
        let now = JSONValue.string(OCPPDateTime.format(Date()))
        if transactions {
            switch (version, step % 3) {
            case (.v16, 0):
                return ("StartTransaction", ["connectorId": 1, "idTag": "BENCH", "meterStart": .int(meter), "timestamp": now])
            case (.v16, 1):
                return ("MeterValues", [
                    "connectorId": 1, "transactionId": transactionId ?? 0,
                    "meterValue": [["timestamp": now, "sampledValue": [["value": .string(String(meter))]]]],
                ])
            case (.v16, _):
                return ("StopTransaction", ["transactionId": transactionId ?? 0, "meterStop": .int(meter), "timestamp": now])
            case (.v201, let phase):
                let event = ["Started", "Updated", "Ended"][phase]
                var payload: [String: JSONValue] = [
                    "eventType": .string(event), "timestamp": now, "seqNo": .int(Int64(phase)),
                    "triggerReason": phase == 0 ? "CablePluggedIn" : phase == 1 ? "MeterValuePeriodic" : "EVDeparted",
                    "transactionInfo": ["transactionId": transactionId ?? "bench"],
                    "meterValue": [["timestamp": now, "sampledValue": [["value": .double(Double(meter))]]]],
                ]
                if phase == 0 { payload["evse"] = ["id": 1, "connectorId": 1] }
                return ("TransactionEvent", .object(payload))
            }
        }
        switch (messages[step % messages.count], version) {
        case (.heartbeat, _):
            return ("Heartbeat", [:])
        case (.status, .v16):
            return ("StatusNotification", ["connectorId": 1, "errorCode": "NoError", "status": step % 2 == 0 ? "Available" : "Preparing"])
        case (.status, .v201):
            return ("StatusNotification", [
                "timestamp": now, "connectorStatus": step % 2 == 0 ? "Available" : "Occupied", "evseId": 1, "connectorId": 1,
            ])
        case (.meter, .v16):
            return ("MeterValues", [
                "connectorId": 1, "meterValue": [["timestamp": now, "sampledValue": [["value": .string(String(meter))]]]],
            ])
        case (.authorize, .v16):
            return ("Authorize", ["idTag": .string("BENCH\(step % 100)")])
        case (.authorize, .v201):
            return ("Authorize", ["idToken": ["idToken": .string("BENCH\(step % 100)"), "type": "ISO14443"]])
        case (.meter, .v201):
            return ("MeterValues", ["evseId": 1, "meterValue": [["timestamp": now, "sampledValue": [["value": .double(Double(meter))]]]]])
        }
    }
}
