"""The schema walker: turns each message schema of a version into a small model: payload structs, nested object
types deduplicated by shape, and enumerations deduplicated by name. What the versions name differently comes
from their `Spec` (tools/ocppgen/spec.py)."""

import json
import os
import sys

import ocpp

from . import CONSTRAINT_KEYS, Field, Shape, TypeRef, merge_sites


class Model:
    def __init__(self, spec):
        self.spec = spec
        self.shapes = {}  # shape key -> Shape
        self.enums = {}  # enum name -> ordered union of values
        self.payloads = []  # (action, type name, schema, [Field], is_request)
        self.renamed = []  # (shape name, original name) of same-named object types whose fields differ
        self.definitions = {}  # the `definitions` of the schema being walked

    def resolve(self, schema):
        """`schema`, or the definition it refers to with `$ref`."""
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/definitions/"), ref
            schema = self.definitions[ref[len("#/definitions/"):]]
        return schema

    def walk_type(self, schema, key, payload, pattern):
        schema = self.resolve(schema)
        kind = schema.get("type")
        constraints = {k: schema[k] for k in CONSTRAINT_KEYS if k in schema}
        special = self.spec.special_type(schema)
        if special is not None:
            return special
        if kind is None and "enum" not in schema:
            return TypeRef("any")  # a member the schema leaves untyped (2.0.1 DataTransfer's `data`)
        if "enum" in schema:
            values = tuple(schema["enum"])
            name = self.spec.enum_name(schema, key)
            if name is None:
                sys.exit(f"no enumeration name for {payload}.{'.'.join(pattern)}: {values}")
            union = self.enums.setdefault(name, [])
            union.extend(v for v in values if v not in union)
            return TypeRef("enum", enum=name, enum_values=values, constraints=constraints)
        if kind == "string":
            return TypeRef("date" if schema.get("format") == "date-time" else "string", constraints=constraints)
        if kind in ("integer", "number", "boolean"):
            return TypeRef({"integer": "int", "number": "double", "boolean": "bool"}[kind], constraints=constraints)
        if kind == "array":
            item = self.walk_type(schema["items"], key, payload, pattern + ["[]"])
            return TypeRef("array", item=item, constraints=constraints)
        if kind == "object":
            name = self.spec.object_name(schema, key)
            if name is None:
                sys.exit(f"no object type name for {payload}.{'.'.join(pattern)}")
            fields = self.walk_fields(schema, payload, pattern)
            shape_key = ((name,) if self.spec.objects_by_name else ()) + tuple(
                (f.name, f.required, f.type.key()) for f in fields)
            shape = self.shapes.setdefault(shape_key, Shape(shape_key, fields))
            shape.names.append(name)
            shape.sites.append((payload, pattern, fields))
            return TypeRef("object", shape=shape_key, constraints=constraints)
        sys.exit(f"unsupported schema at {payload}.{'.'.join(pattern)}: {schema}")

    def walk_fields(self, schema, payload, pattern):
        required = set(schema.get("required", []))
        return [Field(name, name in required, self.walk_type(sub, name, payload, pattern + [name]))
                for name, sub in schema.get("properties", {}).items()]

    def load(self):
        directory = os.path.join(os.path.dirname(ocpp.__file__), self.spec.schema_dir, "schemas")
        for action in self.spec.actions:
            for is_request, suffix in ((True, self.spec.request_suffix), (False, "Response")):
                with open(os.path.join(directory, f"{action}{suffix}.json")) as f:
                    schema = json.load(f)
                self.definitions = schema.get("definitions", {})
                type_name = f"{action}{'Request' if is_request else 'Response'}"
                fields = self.walk_fields(schema, type_name, [])
                self.payloads.append((action, type_name, schema, fields, is_request))
        self.spec.name_shapes(self)
        for shape in self.shapes.values():
            shape.fields = merge_sites(shape)

    def residuals(self, type_name):
        """Constraints of a payload's shared nested objects that are stricter here than in the shared type."""
        found = []
        for shape in sorted(self.shapes.values(), key=lambda s: s.name):
            for payload, pattern, fields in shape.sites:
                if payload == type_name:
                    for merged, site in zip(shape.fields, fields):
                        found += stricter(merged.type, site.type, pattern + [merged.name])
        return sorted(found, key=lambda c: (c[0], c[1]))


def stricter(merged, site, pattern):
    found = []
    for k in CONSTRAINT_KEYS:
        if k in site.constraints and site.constraints[k] != merged.constraints.get(k):
            found.append((pattern, k, site.constraints[k]))
    if site.kind == "enum" and site.enum_values != merged.enum_values:
        found.append((pattern, "enum", (site.enum, site.enum_values)))
    if site.kind == "array":
        found += stricter(merged.item, site.item, pattern + ["[]"])
    return found
