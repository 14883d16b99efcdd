#!/usr/bin/env python3
"""Generate the typed OCPP 2.0.1 payloads of Sources/OCPP201 from the official OCPP 2.0.1 JSON schemas.

The schemas are the ones shipped inside the PyPI package `ocpp` (pinned in requirements-interop.txt).
Run it with `make generate` (that is, `.venv/bin/python tools/generate-ocpp201.py`); the output is committed.

The work is shared with tools/generate-ocpp16.py in tools/ocppgen/:
  * a schema walker (model.py) that turns each message schema into a small model: payload structs, nested
    object types deduplicated by shape, and enumerations deduplicated by name;
  * an emitter (swift.py) that writes one Swift file per action (Messages/), per object type (DataTypes/), per
    enumeration (Enums/), and the action table;
  * test fixtures derived from the schemas (fixtures.py, into Tests/OCPP201Tests/SchemaCases/), each checked
    against the official schema with `jsonschema`.

This file holds what is 2.0.1's own (the `OCPP201` spec below): the 39 actions and who sends them; the
`javaType` names of enumerations and object types (same-named definitions of the 39 actions are all identical
today; should two differ, their constraints are merged as for 1.6, or, if their fields differ, the rarer gets its
first payload's name as a suffix and a note is printed); `customData`, kept as a raw JSON object; Draft 6 schemas;
sample values. The shared parts also do what only the 2.0.1 schemas need today: `$ref`s resolved against each
schema's `definitions`, DataTransfer's untyped `data` read as any JSON value, minimum/maximum/maxItems, and the
ClearChargingProfile object type written to ClearChargingProfileType.swift, since SwiftPM wants file names
unique within a target.

Output is deterministic and the script is idempotent: running it twice gives no diff.
"""

import os
import sys

from jsonschema import Draft6Validator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocppgen import TypeRef  # noqa: E402
from ocppgen.generate import generate  # noqa: E402
from ocppgen.spec import Spec  # noqa: E402

# The 39 OCPP 2.0.1 actions this package types (core, provisioning, authorization, transactions, remote
# control, availability, reservation, smart charging, metering, firmware, diagnostics, data transfer).
ACTIONS = """BootNotification Heartbeat StatusNotification GetVariables SetVariables GetBaseReport GetReport
NotifyReport Reset Authorize ClearCache GetLocalListVersion SendLocalList TransactionEvent GetTransactionStatus
RequestStartTransaction RequestStopTransaction TriggerMessage UnlockConnector ChangeAvailability ReserveNow
CancelReservation ReservationStatusUpdate SetChargingProfile ClearChargingProfile GetChargingProfiles
ReportChargingProfiles GetCompositeSchedule NotifyEVChargingNeeds NotifyChargingLimit ClearedChargingLimit
MeterValues UpdateFirmware FirmwareStatusNotification GetLog LogStatusNotification NotifyEvent
SecurityEventNotification DataTransfer""".split()

# Who sends the request, as in the OCPP 2.0.1 specification.
CHARGE_POINT_INITIATED = set("""BootNotification Heartbeat StatusNotification NotifyReport Authorize
TransactionEvent ReservationStatusUpdate ReportChargingProfiles NotifyEVChargingNeeds NotifyChargingLimit
ClearedChargingLimit MeterValues FirmwareStatusNotification LogStatusNotification NotifyEvent
SecurityEventNotification""".split())
BOTH_INITIATED = {"DataTransfer"}

# The 2.0.1 schemas name every enumeration and object type (`javaType`); those names are used as they are.
# `customData` (javaType CustomData) is kept as a raw JSON object and not validated beyond being an object.
CUSTOM_DATA = "CustomData"

STRING_SAMPLES = {
    "idToken": "04A2B3C4D5E6F7", "groupIdToken": "FLEET-0001", "vendorName": "ACME", "model": "Wallbox-22",
    "serialNumber": "CS-000123", "firmwareVersion": "2.1.0", "iccid": "8931440400012345678",
    "imsi": "262011234567890", "vendorId": "com.acme", "messageId": "SetLed", "transactionId": "TX-4711",
    "attributeValue": "300", "name": "HeartbeatInterval", "instance": "Main", "value": "300",
    "location": "https://firmware.example.com/cs-2.1.0.bin", "remoteLocation": "ftp://logs.example.com/upload/",
    "signingCertificate": "-----BEGIN CERTIFICATE-----", "signature": "MEUCIQD", "type": "TamperDetected",
    "techInfo": "Cover opened", "additionalIdToken": "PLATE-AB123", "reasonCode": "Busy",
    "language1": "en", "language2": "de", "actualValue": "300", "trigger": "Delta", "dataType": "decimal",
    "unit": "Wh", "valuesList": "A,B", "tariffId": "T1",
}
INT_SAMPLES = {"evseId": 1, "connectorId": 1, "id": 1, "interval": 300, "requestId": 42, "seqNo": 0,
               "versionNumber": 3, "remoteStartId": 7, "reservationId": 7, "chargingProfileId": 12,
               "stackLevel": 1, "duration": 3600, "startPeriod": 0, "numberPhases": 3, "retries": 3,
               "retryInterval": 60, "eventId": 9, "numberOfPhasesUsed": 3, "cableMaxCurrent": 32,
               "timeSpentCharging": 120, "maxScheduleTuples": 4}
DOUBLE_SAMPLES = {"limit": 16.5, "minChargingRate": 6.5, "value": 1234.5, "energyAmount": 22000.5,
                  "evMinCurrent": 6.5, "evMaxCurrent": 32.0, "evMaxVoltage": 400.0, "totalCost": 12.5}
ENUM_SAMPLES = {"MeasurandEnum": "Energy.Active.Import.Register", "ReadingContextEnum": "Sample.Periodic",
                "ChargingProfilePurposeEnum": "TxProfile", "ChargingProfileKindEnum": "Absolute",
                "ConnectorStatusEnum": "Occupied", "TransactionEventEnum": "Updated",
                "TriggerReasonEnum": "MeterValuePeriodic", "IdTokenEnum": "ISO14443",
                "ChargingStateEnum": "Charging", "BootReasonEnum": "PowerUp"}


class OCPP201(Spec):
    name = "2.0.1"
    module = "OCPP201"
    schema_dir = "v201"
    request_suffix = "Request"  # AuthorizeRequest.json, AuthorizeResponse.json
    script = "tools/generate-ocpp201.py"
    validator = Draft6Validator
    actions = ACTIONS
    charge_point_initiated = CHARGE_POINT_INITIATED
    both_initiated = BOTH_INITIATED
    objects_by_name = True
    string_samples = STRING_SAMPLES
    int_samples = INT_SAMPLES
    double_samples = DOUBLE_SAMPLES
    enum_samples = ENUM_SAMPLES

    def enum_name(self, schema, key):
        return schema.get("javaType")

    def object_name(self, schema, key):
        return schema.get("javaType")

    def name_shapes(self, model):
        """Each shape takes its javaType; when same-named definitions have different fields, the most used keeps
        the name and the others get the name of the first payload that uses them as a suffix."""
        by_name = {}
        for shape in model.shapes.values():
            by_name.setdefault(shape.names[0], []).append(shape)
        taken = set()
        for name, shapes in by_name.items():
            shapes.sort(key=lambda s: -len(s.sites))
            shapes[0].name = name
            taken.add(name)
            for shape in shapes[1:]:
                shape.name = name + shape.sites[0][0]
                if shape.name in taken:
                    sys.exit(f"two different object shapes are both named {shape.name}")
                taken.add(shape.name)
                model.renamed.append((shape.name, name))

    def special_type(self, schema):
        return TypeRef("custom") if schema.get("javaType") == CUSTOM_DATA else None

    def special_sample(self, schema, key, pattern):
        return {"vendorId": "com.acme", "rating": 5} if schema.get("javaType") == CUSTOM_DATA else None

    def fills(self, key, pattern):
        """A full sample gives `customData` to the payload itself only."""
        return key != "customData" or not pattern

    def special_violations(self, schema, case):
        if schema.get("javaType") != CUSTOM_DATA:
            return False
        case("a string instead of an object", "x", "type")
        case("any members", {"vendorId": 1}, None, schema_valid=None)
        return True


if __name__ == "__main__":
    generate(OCPP201())
