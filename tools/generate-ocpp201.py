#!/usr/bin/env python3
"""Generate the typed OCPP 2.0.1 payloads of Sources/OCPP201 from the official OCPP 2.0.1 JSON schemas.

The schemas are the ones shipped inside the PyPI package `ocpp` (pinned in requirements-interop.txt).
Run it with `make generate` (that is, `.venv/bin/python tools/generate-ocpp201.py`); the output is committed.

Two halves, both shared with tools/generate-ocpp16.py (tools/ocppgen/; the `OCPP201` spec below says what is
this version's own):
  * a schema walker (model.py) that turns each message schema into a small model: payload structs, nested
    object types deduplicated by shape, and enumerations deduplicated by name;
  * an emitter (swift.py) that writes one Swift file per action (Messages/), per object type (DataTypes/), per
    enumeration (Enums/) and the action table; and test fixtures derived from the schemas (Tests/OCPP201Tests/
    SchemaCases/), each fixture checked here against the official schema with `jsonschema`.

2.0.1 specifics: `$ref`s are resolved against each schema's `definitions`; enumerations and object types take
their `javaType` names (same-named definitions of the 39 actions are all identical today; should two differ,
their constraints are merged as for 1.6, or, if their fields differ, the rarer gets its first payload's name as
a suffix and a note is printed); `customData` is kept as a raw JSON object; DataTransfer's untyped `data` is any
JSON value; numbers are Doubles. The ClearChargingProfile object type is written to ClearChargingProfileType.swift,
since SwiftPM wants file names unique within a target.

Output is deterministic and the script is idempotent: running it twice gives no diff.
"""

import os
import sys

from jsonschema import Draft6Validator

# The parts both generators share (tools/ocppgen/).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ocppgen import (TypeRef, json_path, lower_first, remove_stale, swift_json, swift_string, with_value,  # noqa: E402
                     write)
from ocppgen.model import Model  # noqa: E402
from ocppgen.spec import Spec  # noqa: E402
from ocppgen.swift import emit_actions, emit_data_type, emit_enum, emit_message, header  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "Sources", "OCPP201")
TESTS = os.path.join(ROOT, "Tests", "OCPP201Tests", "SchemaCases")

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


# ----------------------------------------------------------------------------------------------------------
# The schema walker and the Swift emitter (tools/ocppgen/model.py, swift.py): what 2.0.1 names its own way
# ----------------------------------------------------------------------------------------------------------

class OCPP201(Spec):
    name = "2.0.1"
    module = "OCPP201"
    schema_dir = "v201"
    request_suffix = "Request"  # AuthorizeRequest.json, AuthorizeResponse.json
    script = "tools/generate-ocpp201.py"
    actions = ACTIONS
    charge_point_initiated = CHARGE_POINT_INITIATED
    both_initiated = BOTH_INITIATED
    objects_by_name = True

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


SPEC = OCPP201()
HEADER = header(SPEC)


# ----------------------------------------------------------------------------------------------------------
# Test fixtures derived from the schemas
# ----------------------------------------------------------------------------------------------------------

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
DATE_SAMPLE = "2026-01-02T03:04:05.123Z"


def sample(schema, key, pattern, full):
    """A realistic valid value for `schema` (references resolved); `full` fills optional members too, except
    `customData`, which only the payload itself gets."""
    if schema.get("javaType") == CUSTOM_DATA:
        return {"vendorId": "com.acme", "rating": 5}
    if "enum" in schema:
        preferred = ENUM_SAMPLES.get(schema.get("javaType"))
        return preferred if preferred in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    if kind is None:
        return {"led": "green"}
    if kind == "object":
        required = schema.get("required", [])
        return {k: sample(s, k, pattern + [k], full) for k, s in schema.get("properties", {}).items()
                if k in required or (full and (k != "customData" or not pattern))}
    if kind == "array":
        return [sample(schema["items"], key, pattern + ["[]"], full) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_SAMPLE
        return STRING_SAMPLES.get(key, key)[: schema.get("maxLength", 1000)]
    if kind == "integer":
        value = INT_SAMPLES.get(key, 1)
        return max(value, schema.get("minimum", value))
    if kind == "number":
        return DOUBLE_SAMPLES.get(key, 1.5)
    if kind == "boolean":
        return True
    sys.exit(f"no sample for {schema}")


def inline(schema, definitions):
    """`schema` with every `$ref` replaced by the definition it names (the 2.0.1 schemas are not recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(definitions[schema["$ref"][len("#/definitions/"):]], definitions)
        return {k: inline(v, definitions) for k, v in schema.items() if k != "definitions"}
    if isinstance(schema, list):
        return [inline(v, definitions) for v in schema]
    return schema


def violations(schema, document, value, pattern):
    """(name, document, kind, path, schema_valid) for each way to break or liberally bend `value` at `pattern`."""
    cases = []
    kind = schema.get("type")
    path = json_path(pattern)

    def case(name, new, expected, schema_valid=False):
        cases.append((f"{path or 'payload'}: {name}", with_value(document, pattern, new) if pattern else new,
                      expected, path, schema_valid))

    if schema.get("javaType") == CUSTOM_DATA:
        case("a string instead of an object", "x", "type")
        case("any members", {"vendorId": 1}, None, schema_valid=None)
    elif kind is None:
        case("a string", "green", None, schema_valid=True)
    elif kind == "object":
        case("an array instead of an object", [], "formation")
        for key, sub in schema.get("properties", {}).items():
            if key not in value:
                continue
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
        if "maxItems" in schema:
            case(f"more than {schema['maxItems']} items", value * (schema["maxItems"] + 1), "property")
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
        if "minimum" in schema:
            case(f"less than {schema['minimum']}", schema["minimum"] - 1, "property")
        if "maximum" in schema:
            case(f"more than {schema['maximum']}", schema["maximum"] + 1, "property")
    elif kind == "number":
        case("a string instead of a number", str(value), "type")
        case("an integer", int(value), None, schema_valid=True)
        if "minimum" in schema:
            case(f"less than {schema['minimum']}", schema["minimum"] - 1.5, "property")
        if "maximum" in schema:
            case(f"more than {schema['maximum']}", schema["maximum"] + 1.5, "property")
    elif kind == "boolean":
        case("a string instead of a boolean", "true", "type")
    return cases


def schema_cases(action, model):
    """Valid samples and violations of both payloads of `action`, each confirmed with the official schema."""
    cases = []
    for _, type_name, schema, _, is_request in [p for p in model.payloads if p[0] == action]:
        validator = Draft6Validator(schema)
        plain = inline(schema, schema.get("definitions", {}))
        full, minimal = sample(plain, "", [], True), sample(plain, "", [], False)
        found = [("full sample", full, None, "", True), ("required fields only", minimal, None, "", True)]
        found += violations(plain, full, full, [])
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
    out = [HEADER, "import OCPP201", "import OCPPRPC", "",
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
    out += ["    ].flatMap { $0 }", "", "    /// The full sample of each of the 78 payload types.",
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
        # SwiftPM wants unique file names in a target: the ClearChargingProfile object type meets its action.
        file_name = f"{shape.name}Type" if shape.name in ACTIONS else shape.name
        write(os.path.join(SOURCES, "DataTypes", f"{file_name}.swift"), emit_data_type(shape, model), written)
    for name, values in model.enums.items():
        write(os.path.join(SOURCES, "Enums", f"{name}.swift"), emit_enum(name, values, model), written)
    write(os.path.join(SOURCES, "OCPP201Actions.swift"), emit_actions(model), written)
    write(os.path.join(TESTS, "SchemaCase.swift"), emit_case_index(model), written)
    remove_stale(SOURCES, written, SPEC.script)
    remove_stale(TESTS, written, SPEC.script)
    for name, original in model.renamed:
        print(f"note: {name} is a {original} whose fields differ from the shared {original}")
    print(f"wrote {len(written)} files: {len(model.payloads)} payloads, {len(model.shapes)} data types, "
          f"{len(model.enums)} enumerations")


if __name__ == "__main__":
    main()
