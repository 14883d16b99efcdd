#!/usr/bin/env python3
"""Generate the typed OCPP 1.6 payloads of Sources/OCPP16 from the official OCPP 1.6 JSON schemas.

The schemas are the ones shipped inside the PyPI package `ocpp` (pinned in requirements-interop.txt).
Run it with `make generate` (that is, `.venv/bin/python tools/generate-ocpp16.py`); the output is committed.

Two halves, both shared with tools/generate-ocpp201.py (tools/ocppgen/; the `OCPP16` spec below says what is
this version's own):
  * a schema walker (model.py) that turns each message schema into a small model: payload structs, nested
    object types deduplicated by shape, and enumerations deduplicated by name;
  * an emitter (swift.py) that writes one Swift file per action (Messages/), per object type (DataTypes/), per
    enumeration (Enums/) and the action table; and test fixtures derived from the schemas (Tests/OCPP16Tests/
    SchemaCases/), each fixture checked here against the official schema with `jsonschema`.

Output is deterministic and the script is idempotent: running it twice gives no diff.
"""

import os
import sys

from jsonschema import Draft4Validator

# The parts both generators share (tools/ocppgen/).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocppgen import json_path, lower_first, remove_stale, swift_json, swift_string, with_value, write  # noqa: E402
from ocppgen.model import Model  # noqa: E402
from ocppgen.spec import Spec  # noqa: E402
from ocppgen.swift import emit_actions, emit_data_type, emit_enum, emit_message, header  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "Sources", "OCPP16")
TESTS = os.path.join(ROOT, "Tests", "OCPP16Tests", "SchemaCases")

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


# ----------------------------------------------------------------------------------------------------------
# The schema walker and the Swift emitter (tools/ocppgen/model.py, swift.py): what 1.6 names its own way
# ----------------------------------------------------------------------------------------------------------

class OCPP16(Spec):
    name = "1.6"
    module = "OCPP16"
    schema_dir = "v16"
    request_suffix = ""  # Authorize.json, AuthorizeResponse.json
    script = "tools/generate-ocpp16.py"
    actions = ACTIONS
    charge_point_initiated = CHARGE_POINT_INITIATED
    both_initiated = BOTH_INITIATED
    enum_aliases = ENUM_ALIASES

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


SPEC = OCPP16()
HEADER = header(SPEC)


# ----------------------------------------------------------------------------------------------------------
# Test fixtures derived from the schemas
# ----------------------------------------------------------------------------------------------------------

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
DATE_SAMPLE = "2026-01-02T03:04:05.123Z"


def sample(schema, key, pattern, full):
    """A realistic valid value for `schema`; `full` fills optional members too."""
    if "enum" in schema:
        name = ENUM_NAMES.get(tuple(schema["enum"])) or ENUM_NAME_BY_KEY.get(key)
        preferred = ENUM_SAMPLES.get(name)
        return preferred if preferred in schema["enum"] else schema["enum"][0]
    kind = schema["type"]
    if kind == "object":
        required = schema.get("required", [])
        return {k: sample(s, k, pattern + [k], full) for k, s in schema.get("properties", {}).items()
                if full or k in required}
    if kind == "array":
        return [sample(schema["items"], key, pattern + ["[]"], full) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_SAMPLE
        if key == "value" and "sampledValue" in pattern:
            return "1234.5"
        return STRING_SAMPLES.get(key, key)[: schema.get("maxLength", 1000)]
    if kind == "integer":
        return INT_SAMPLES.get(key, 1)
    if kind == "number":
        return DOUBLE_SAMPLES.get(key, 1.5)
    if kind == "boolean":
        return True
    sys.exit(f"no sample for {schema}")


def violations(schema, document, value, pattern):
    """(name, document, kind, path, schema_valid) for each way to break or liberally bend `value` at `pattern`."""
    cases = []
    kind = schema.get("type")
    path = json_path(pattern)

    def case(name, new, expected, schema_valid=False):
        cases.append((f"{path or 'payload'}: {name}", with_value(document, pattern, new) if pattern else new,
                      expected, path, schema_valid))

    if kind == "object":
        case("an array instead of an object", [], "formation")
        for key, sub in schema.get("properties", {}).items():
            if key in schema.get("required", []):
                member = pattern + [key]
                cases.append((f"{json_path(member)}: missing", with_value(document, member, None, delete=True),
                              "occurrence", json_path(member), False))
                cases.append((f"{json_path(member)}: null", with_value(document, member, None),
                              "occurrence", json_path(member), False))
            cases += violations(sub, document, value[key], pattern + [key])
        case("an unknown vendor member", dict(value, vendorExtension={"x": 1}), None, schema_valid=None)
    elif kind == "array":
        case("an object instead of an array", {}, "type")
        if "minItems" in schema:
            case(f"fewer than {schema['minItems']} items", value[: schema["minItems"] - 1], "property")
        cases += violations(schema["items"], document, value[0], pattern + [0])
    elif "enum" in schema:
        case("a number instead of a string", 42, "type")
        case("a value outside the enumeration", "NotAValue", "property")
    elif kind == "string":
        case("a number instead of a string", 42, "type")
        if schema.get("format") == "date-time":
            # jsonschema checks date-time only with an optional package, so the schema cannot confirm this.
            case("not a date-time", "yesterday", "property", schema_valid=None)
            case("an offset and no fraction", "2026-01-02T05:04:05+02:00", None, schema_valid=True)
        if "maxLength" in schema:
            case(f"longer than {schema['maxLength']}", "x" * (schema["maxLength"] + 1), "property")
            case(f"exactly {schema['maxLength']} long", "x" * schema["maxLength"], None, schema_valid=True)
    elif kind == "integer":
        case("a string instead of an integer", str(value), "type")
        case("a fractional number", value + 0.5, "type")
        case("an integral number", float(value), None, schema_valid=None)
    elif kind == "number":
        case("a string instead of a number", str(value), "type")
        case("an integer", int(value), None, schema_valid=True)
        if "multipleOf" in schema:
            case(f"not a multiple of {schema['multipleOf']}", value + schema["multipleOf"] / 2, "property")
    elif kind == "boolean":
        case("a string instead of a boolean", "true", "type")
    return cases


def schema_cases(action, model):
    """Valid samples and violations of both payloads of `action`, each confirmed with the official schema."""
    cases = []
    for _, type_name, schema, _, is_request in [p for p in model.payloads if p[0] == action]:
        validator = Draft4Validator(schema)
        full, minimal = sample(schema, "", [], True), sample(schema, "", [], False)
        found = [("full sample", full, None, "", True), ("required fields only", minimal, None, "", True)]
        found += violations(schema, full, full, [])
        for name, document, expected, path, schema_valid in found:
            if schema_valid is not None and validator.is_valid(document) != schema_valid:
                sys.exit(f"{type_name} case '{name}': the official schema disagrees with the expectation")
            cases.append((type_name, is_request, name, document, expected, path))
    return cases


def emit_cases(action, model):
    out = [HEADER, "import OCPPRPC", "", "extension SchemaCase {",
           f"    /// Samples and violations of the {action} schemas.",
           f"    static let {lower_first(action)}: [SchemaCase] = ["]
    for type_name, is_request, name, document, expected, path in schema_cases(action, model):
        expectation = ".valid" if expected is None else f".invalid(.{expected}, {swift_string(path)})"
        out += [f"        SchemaCase({swift_string(type_name)}, {swift_string(name)},",
                f"                   {swift_json(document)},", f"                   {expectation}),"]
    out += ["    ]", "}"]
    return out


def emit_case_index(model):
    out = [HEADER, "import OCPP16", "import OCPPRPC", "",
           "/// One payload derived from the official schemas, with what decoding it must give.",
           "struct SchemaCase: Sendable, CustomStringConvertible {",
           "    /// What decoding the payload must give.", "    enum Expectation: Sendable, Equatable {",
           "        case valid", "        case invalid(PayloadError.Kind, String)", "    }", "",
           "    var typeName: String", "    var name: String", "    var text: String",
           "    var expectation: Expectation",
           "", "    init(_ typeName: String, _ name: String, _ text: String, _ expectation: Expectation) {",
           "        self.typeName = typeName", "        self.name = name", "        self.text = text",
           "        self.expectation = expectation", "    }", "",
           "    var description: String { \"\\(typeName) \\(name)\" }", "",
           "    /// Every case of every action.", "    static let all: [SchemaCase] = ["]
    out += [f"        {lower_first(a)}," for a in sorted(ACTIONS)]
    out += ["    ].flatMap { $0 }", "", "    /// The full sample of each of the 56 payload types.",
            "    static let fullSamples: [SchemaCase] = all.filter { $0.name == \"full sample\" }", "",
            "    /// Every payload type, by name.", "    static let payloadTypes: [String: any OCPPPayload.Type] = ["]
    out += [f"        {swift_string(t)}: {t}.self," for _, t, _, _, _ in sorted(model.payloads, key=lambda p: p[1])]
    out += ["    ]", "}"]
    return out


# ----------------------------------------------------------------------------------------------------------
# Writing files
# ----------------------------------------------------------------------------------------------------------

def main():
    model = Model(SPEC)
    model.load()
    written = set()
    for action in ACTIONS:
        write(os.path.join(SOURCES, "Messages", f"{action}.swift"), emit_message(action, model), written)
        write(os.path.join(TESTS, f"{action}Cases.swift"), emit_cases(action, model), written)
    for shape in model.shapes.values():
        write(os.path.join(SOURCES, "DataTypes", f"{shape.name}.swift"), emit_data_type(shape, model), written)
    for name, values in model.enums.items():
        write(os.path.join(SOURCES, "Enums", f"{name}.swift"), emit_enum(name, values, model), written)
    write(os.path.join(SOURCES, "OCPP16Actions.swift"), emit_actions(model), written)
    write(os.path.join(TESTS, "SchemaCase.swift"), emit_case_index(model), written)
    remove_stale(SOURCES, written, SPEC.script)
    remove_stale(TESTS, written, SPEC.script)
    print(f"wrote {len(written)} files: {len(model.payloads)} payloads, {len(model.shapes)} data types, "
          f"{len(model.enums)} enumerations")


if __name__ == "__main__":
    main()
