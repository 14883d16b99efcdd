"""Test fixtures derived from the schemas (Tests/<module>Tests/SchemaCases/): for each payload a full sample, a
sample of the required members only, and the ways to break or liberally bend each member, every one checked here
against the official schema with `jsonschema`."""

import sys

from . import json_path, lower_first, swift_json, swift_string, with_value
from .swift import header

DATE_SAMPLE = "2026-01-02T03:04:05.123Z"


def sample(spec, schema, key, pattern, full):
    """A realistic valid value for `schema` (references resolved); `full` fills optional members too, as far as
    the version's `fills` lets it."""
    special = spec.special_sample(schema, key, pattern)
    if special is not None:
        return special
    if "enum" in schema:
        preferred = spec.enum_samples.get(spec.enum_name(schema, key))
        return preferred if preferred in schema["enum"] else schema["enum"][0]
    kind = schema.get("type")
    if kind is None:
        return {"led": "green"}
    if kind == "object":
        required = schema.get("required", [])
        return {k: sample(spec, s, k, pattern + [k], full) for k, s in schema.get("properties", {}).items()
                if k in required or (full and spec.fills(k, pattern))}
    if kind == "array":
        return [sample(spec, schema["items"], key, pattern + ["[]"], full)
                for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_SAMPLE
        return spec.string_samples.get(key, key)[: schema.get("maxLength", 1000)]
    if kind == "integer":
        value = spec.int_samples.get(key, 1)
        return max(value, schema.get("minimum", value))
    if kind == "number":
        return spec.double_samples.get(key, 1.5)
    if kind == "boolean":
        return True
    sys.exit(f"no sample for {schema}")


def inline(schema, definitions):
    """`schema` with every `$ref` replaced by the definition it names (the OCPP schemas are not recursive)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return inline(definitions[schema["$ref"][len("#/definitions/"):]], definitions)
        return {k: inline(v, definitions) for k, v in schema.items() if k != "definitions"}
    if isinstance(schema, list):
        return [inline(v, definitions) for v in schema]
    return schema


def violations(spec, schema, document, value, pattern):
    """(name, document, kind, path, schema_valid) for each way to break or liberally bend `value` at `pattern`."""
    cases = []
    kind = schema.get("type")
    path = json_path(pattern)

    def case(name, new, expected, schema_valid=False):
        cases.append((f"{path or 'payload'}: {name}", with_value(document, pattern, new) if pattern else new,
                      expected, path, schema_valid))

    if spec.special_violations(schema, case):
        pass
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
            cases += violations(spec, sub, document, value[key], pattern + [key])
        case("an unknown vendor member", dict(value, vendorExtension={"x": 1}), None, schema_valid=None)
    elif kind == "array":
        case("an object instead of an array", {}, "type")
        if "minItems" in schema:
            case(f"fewer than {schema['minItems']} items", value[: schema["minItems"] - 1], "property")
        if "maxItems" in schema:
            case(f"more than {schema['maxItems']} items", value * (schema["maxItems"] + 1), "property")
        cases += violations(spec, schema["items"], document, value[0], pattern + [0])
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
        if "multipleOf" in schema:
            case(f"not a multiple of {schema['multipleOf']}", value + schema["multipleOf"] / 2, "property")
    elif kind == "boolean":
        case("a string instead of a boolean", "true", "type")
    return cases


def schema_cases(action, model):
    """Valid samples and violations of both payloads of `action`, each confirmed with the official schema."""
    spec = model.spec
    cases = []
    for _, type_name, schema, _, is_request in [p for p in model.payloads if p[0] == action]:
        validator = spec.validator(schema)
        plain = inline(schema, schema.get("definitions", {}))
        full, minimal = sample(spec, plain, "", [], True), sample(spec, plain, "", [], False)
        found = [("full sample", full, None, "", True), ("required fields only", minimal, None, "", True)]
        found += violations(spec, plain, full, full, [])
        for name, document, expected, path, schema_valid in found:
            if schema_valid is not None and validator.is_valid(document) != schema_valid:
                sys.exit(f"{type_name} case '{name}': the official schema disagrees with the expectation")
            cases.append((type_name, is_request, name, document, expected, path))
    return cases


def emit_cases(action, model):
    out = [header(model.spec), "import OCPPRPC", "", "extension SchemaCase {",
           f"    /// Samples and violations of the {action} schemas.",
           f"    static let {lower_first(action)}: [SchemaCase] = ["]
    for type_name, is_request, name, document, expected, path in schema_cases(action, model):
        expectation = ".valid" if expected is None else f".invalid(.{expected}, {swift_string(path)})"
        out += [f"        SchemaCase({swift_string(type_name)}, {swift_string(name)},",
                f"                   {swift_json(document)},", f"                   {expectation}),"]
    out += ["    ]", "}"]
    return out


def emit_case_index(model):
    spec = model.spec
    out = [header(spec), f"import {spec.module}", "import OCPPRPC", "",
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
    out += [f"        {lower_first(a)}," for a in sorted(spec.actions)]
    out += ["    ].flatMap { $0 }", "", f"    /// The full sample of each of the {len(model.payloads)} payload types.",
            "    static let fullSamples: [SchemaCase] = all.filter { $0.name == \"full sample\" }", "",
            "    /// Every payload type, by name.", "    static let payloadTypes: [String: any OCPPPayload.Type] = ["]
    out += [f"        {swift_string(t)}: {t}.self," for _, t, _, _, _ in sorted(model.payloads, key=lambda p: p[1])]
    out += ["    ]", "}"]
    return out
