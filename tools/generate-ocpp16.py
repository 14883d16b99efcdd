#!/usr/bin/env python3
"""Generate the typed OCPP 1.6 payloads of Sources/OCPP16 from the official OCPP 1.6 JSON schemas.

The schemas are the ones shipped inside the PyPI package `ocpp` (pinned in requirements-interop.txt).
Run it with `make generate` (that is, `.venv/bin/python tools/generate-ocpp16.py`); the output is committed.

The work is shared with tools/generate-ocpp201.py in tools/ocppgen/:
  * a schema walker (model.py) that turns each message schema into a small model: payload structs, nested
    object types deduplicated by shape, and enumerations deduplicated by name;
  * an emitter (swift.py) that writes one Swift file per action (Messages/), per object type (DataTypes/), per
    enumeration (Enums/), and the action table;
  * test fixtures derived from the schemas (fixtures.py, into Tests/OCPP16Tests/SchemaCases/), each checked
    against the official schema with `jsonschema`.

This file holds what is 1.6's own (the `OCPP16` spec below): the 28 actions and who sends them; the names of
enumerations and object types, which the 1.6 schemas leave out (enumerations are named by their value set,
object types by the member that holds them, and same-shaped objects share one type named after the most
common of its members); the specification's aliases of GenericStatus; Draft 4 schemas; sample values.

Output is deterministic and the script is idempotent: running it twice gives no diff.
"""

import os
import sys

from jsonschema import Draft4Validator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocppgen.generate import generate  # noqa: E402
from ocppgen.spec import Spec  # noqa: E402

# The 28 actions of MISSION.md, in its order (the security extension's messages are left out on purpose).
ACTIONS = """Authorize BootNotification ChangeAvailability ChangeConfiguration ClearCache DataTransfer
GetConfiguration Heartbeat MeterValues RemoteStartTransaction RemoteStopTransaction Reset StartTransaction
StatusNotification StopTransaction UnlockConnector GetDiagnostics DiagnosticsStatusNotification
FirmwareStatusNotification UpdateFirmware GetLocalListVersion SendLocalList CancelReservation ReserveNow
ClearChargingProfile GetCompositeSchedule SetChargingProfile TriggerMessage""".split()

# Who sends the request; the specification wins over MISSION.md's table.
CHARGE_POINT_INITIATED = set("""Authorize BootNotification DiagnosticsStatusNotification
FirmwareStatusNotification Heartbeat MeterValues StartTransaction StatusNotification StopTransaction""".split())
BOTH_INITIATED = {"DataTransfer"}

# The 1.6 schemas inline their enumerations without names; these are the specification's names, keyed by the
# value set. Two sets may share a name (UnitOfMeasure: StopTransaction's list lacks "Hertz").
ENUM_NAMES = {
    ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"): "AuthorizationStatus",
    ("Accepted", "Pending", "Rejected"): "RegistrationStatus",
    ("Inoperative", "Operative"): "AvailabilityType",
    ("Accepted", "Rejected", "Scheduled"): "AvailabilityStatus",
    ("Accepted", "Rejected", "RebootRequired", "NotSupported"): "ConfigurationStatus",
    ("Accepted", "Rejected"): "GenericStatus",
    ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"): "DataTransferStatus",
    ("Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic", "Transaction.Begin",
     "Transaction.End", "Trigger", "Other"): "ReadingContext",
    ("Raw", "SignedData"): "ValueFormat",
    ("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"): "Phase",
    ("Cable", "EV", "Inlet", "Outlet", "Body"): "Location",
    ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"): "ChargingProfilePurposeType",
    ("Absolute", "Recurring", "Relative"): "ChargingProfileKindType",
    ("Daily", "Weekly"): "RecurrencyKindType",
    ("A", "W"): "ChargingRateUnitType",
    ("Hard", "Soft"): "ResetType",
    ("Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
     "Unavailable", "Faulted"): "ChargePointStatus",
    ("EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot", "Remote",
     "SoftReset", "UnlockCommand", "DeAuthorized"): "Reason",
    ("Unlocked", "UnlockFailed", "NotSupported"): "UnlockStatus",
    ("Idle", "Uploaded", "UploadFailed", "Uploading"): "DiagnosticsStatus",
    ("Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing",
     "Installed"): "FirmwareStatus",
    ("Differential", "Full"): "UpdateType",
    ("Accepted", "Failed", "NotSupported", "VersionMismatch"): "UpdateStatus",
    ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable"): "ReservationStatus",
    ("Accepted", "Unknown"): "ClearChargingProfileStatus",
    ("Accepted", "Rejected", "NotSupported"): "ChargingProfileStatus",
    ("BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
     "MeterValues", "StatusNotification"): "MessageTrigger",
    ("Accepted", "Rejected", "NotImplemented"): "TriggerMessageStatus",
}
ENUM_NAME_BY_KEY = {"errorCode": "ChargePointErrorCode", "measurand": "Measurand", "unit": "UnitOfMeasure"}
# The specification's names for enumerations that share GenericStatus's value set.
ENUM_ALIASES = {"GenericStatus": ["CancelReservationStatus", "ClearCacheStatus", "GetCompositeScheduleStatus",
                                  "RemoteStartStopStatus", "ResetStatus"]}
# Object types named after the specification rather than the member that holds them.
OBJECT_NAMES = {"csChargingProfiles": "ChargingProfile", "configurationKey": "KeyValue",
                "localAuthorizationList": "AuthorizationData", "transactionData": "MeterValue"}

STRING_SAMPLES = {
    "idTag": "04A2B3C4D5E6F7", "parentIdTag": "FLEET-0001", "chargePointVendor": "ACME",
    "chargePointModel": "Wallbox-22", "chargePointSerialNumber": "CP-000123", "chargeBoxSerialNumber": "CB-000123",
    "firmwareVersion": "1.4.2", "iccid": "8931440400012345678", "imsi": "262011234567890", "meterType": "EM-340",
    "meterSerialNumber": "MS-000777", "vendorId": "com.acme", "messageId": "SetLed", "data": "{\"led\":\"green\"}",
    "key": "HeartbeatInterval", "value": "300", "info": "Cable locked", "vendorErrorCode": "E042",
    "location": "ftp://diag.example.com/upload/", "fileName": "diagnostics-2026-01-02.zip",
    "unknownKey": "VendorSpecificKey",
}
INT_SAMPLES = {"connectorId": 1, "transactionId": 4711, "meterStart": 12345, "meterStop": 23456,
               "reservationId": 7, "interval": 300, "listVersion": 3, "retries": 3, "retryInterval": 60,
               "duration": 3600, "startPeriod": 0, "numberPhases": 3, "chargingProfileId": 12, "stackLevel": 1}
DOUBLE_SAMPLES = {"limit": 16.5, "minChargingRate": 6.5}
ENUM_SAMPLES = {"Measurand": "Energy.Active.Import.Register", "UnitOfMeasure": "Wh",
                "ReadingContext": "Sample.Periodic", "ChargingProfilePurposeType": "TxProfile",
                "ChargingProfileKindType": "Absolute", "ChargePointStatus": "Charging",
                "ChargePointErrorCode": "NoError", "Reason": "Local"}


class OCPP16(Spec):
    name = "1.6"
    module = "OCPP16"
    schema_dir = "v16"
    request_suffix = ""  # Authorize.json, AuthorizeResponse.json
    script = "tools/generate-ocpp16.py"
    validator = Draft4Validator
    actions = ACTIONS
    charge_point_initiated = CHARGE_POINT_INITIATED
    both_initiated = BOTH_INITIATED
    enum_aliases = ENUM_ALIASES
    string_samples = STRING_SAMPLES
    int_samples = INT_SAMPLES
    double_samples = DOUBLE_SAMPLES
    enum_samples = ENUM_SAMPLES

    def enum_name(self, schema, key):
        return ENUM_NAMES.get(tuple(schema["enum"])) or ENUM_NAME_BY_KEY.get(key)

    def object_name(self, schema, key):
        return OBJECT_NAMES.get(key, key[:1].upper() + key[1:])

    def name_shapes(self, model):
        """A shape used under several member names takes the most common (ties: the first alphabetically)."""
        taken = {}
        for shape in model.shapes.values():
            shape.name = sorted(set(shape.names), key=lambda n: (-shape.names.count(n), n))[0]
            if shape.name in taken:
                sys.exit(f"two different object shapes are both named {shape.name}")
            taken[shape.name] = shape

    def check_enum(self, model, name, values):
        """1.6 checks name the first enumeration whose values include the site's, so a site whose value set an
        earlier enumeration contains (GenericStatus's in RegistrationStatus's) lists its values inline. Both
        spellings validate the same; this one is kept so that the generated code stays as it is."""
        return next(n for n, union in model.enums.items() if set(values) <= set(union))

    def special_sample(self, schema, key, pattern):
        """A sampled meter value is a number written as a string."""
        if key == "value" and "sampledValue" in pattern and schema.get("type") == "string" and "enum" not in schema:
            return "1234.5"
        return None


if __name__ == "__main__":
    generate(OCPP16())
