"""Runs one version's generator: walks its schemas, writes Sources/<module> and Tests/<module>Tests/SchemaCases,
and deletes the generated files this run did not write."""

import os

from . import remove_stale, write
from .fixtures import emit_case_index, emit_cases
from .model import Model
from .swift import emit_actions, emit_data_type, emit_enum, emit_message

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate(spec):
    sources = os.path.join(ROOT, "Sources", spec.module)
    tests = os.path.join(ROOT, "Tests", f"{spec.module}Tests", "SchemaCases")
    model = Model(spec)
    model.load()
    written = set()
    for action in spec.actions:
        write(os.path.join(sources, "Messages", f"{action}.swift"), emit_message(action, model), written)
        write(os.path.join(tests, f"{action}Cases.swift"), emit_cases(action, model), written)
    for shape in model.shapes.values():
        # SwiftPM wants unique file names in a target: an object type may share its name with an action
        # (2.0.1's ClearChargingProfile).
        file_name = f"{shape.name}Type" if shape.name in spec.actions else shape.name
        write(os.path.join(sources, "DataTypes", f"{file_name}.swift"), emit_data_type(shape, model), written)
    for name, values in model.enums.items():
        write(os.path.join(sources, "Enums", f"{name}.swift"), emit_enum(name, values, model), written)
    write(os.path.join(sources, f"{spec.module}Actions.swift"), emit_actions(model), written)
    write(os.path.join(tests, "SchemaCase.swift"), emit_case_index(model), written)
    remove_stale(sources, written, spec.script)
    remove_stale(tests, written, spec.script)
    for name, original in model.renamed:
        print(f"note: {name} is a {original} whose fields differ from the shared {original}")
    print(f"wrote {len(written)} files: {len(model.payloads)} payloads, {len(model.shapes)} data types, "
          f"{len(model.enums)} enumerations")
