"""Parts shared by the OCPP payload generators (tools/generate-ocpp16.py, tools/generate-ocpp201.py).

Here: the schema model's data classes, merging the constraints of one object type's sites, Swift spelling
helpers, JSON fixture helpers, and writing files idempotently. In the modules: `spec` (`Spec`, what each
version's generator supplies), `model` (the schema walker), `swift` (the Swift emitter), `fixtures` (the test
fixtures derived from the schemas) and `generate` (`generate(spec)`, which runs them all and writes the files)."""

import json
import os
from dataclasses import dataclass, field

SWIFT_KEYWORDS = set("""associatedtype class deinit enum extension fileprivate func import init inout internal let
open operator private precedencegroup protocol public rethrows static struct subscript typealias var break case
catch continue default defer do else fallthrough for guard if in repeat return throw switch where while Any as
false is nil self Self super throws true try""".split())
CONSTRAINT_KEYS = ("maxLength", "minItems", "maxItems", "minimum", "maximum", "multipleOf")


@dataclass
class TypeRef:
    """The type of one value: a scalar, an enumeration, an object shape or an array of a TypeRef."""
    kind: str  # int, double, string, date, bool, enum, object, array; 2.0.1 adds custom (customData), any
    enum: str = ""  # enumeration name
    enum_values: tuple = ()  # values allowed at this site
    shape: tuple = ()  # object shape key
    item: "TypeRef" = None
    constraints: dict = field(default_factory=dict)

    def key(self):
        if self.kind == "enum":
            return ("enum", self.enum)
        if self.kind == "object":
            return ("object", self.shape)
        if self.kind == "array":
            return ("array", self.item.key())
        return (self.kind,)


@dataclass
class Field:
    name: str
    required: bool
    type: TypeRef


@dataclass
class Shape:
    """An object type: one Swift struct, maybe used at several sites."""
    key: tuple
    fields: list
    names: list = field(default_factory=list)  # candidate names, one per site
    sites: list = field(default_factory=list)  # (payload type name, path pattern, [Field]) per site
    name: str = ""


def merge_sites(shape):
    """The shape's fields with each constraint relaxed to the loosest of its sites (a site whose schema is
    stricter gets the difference checked by its payload, see Model.residuals)."""
    def merge(refs):
        first = refs[0]
        merged = TypeRef(first.kind, first.enum, first.enum_values, first.shape, None, {})
        if first.kind == "enum":
            merged.enum_values = tuple(v for r in refs for v in r.enum_values)
            merged.enum_values = tuple(dict.fromkeys(merged.enum_values))
        for k in CONSTRAINT_KEYS:
            values = [r.constraints.get(k) for r in refs]
            if None in values:
                continue
            if k in ("maxLength", "maxItems", "maximum"):
                merged.constraints[k] = max(values)
            elif k in ("minItems", "minimum"):
                merged.constraints[k] = min(values)
            elif len(set(values)) == 1:
                merged.constraints[k] = values[0]
        if first.kind == "array":
            merged.item = merge([r.item for r in refs])
        return merged

    sites = [fields for _, _, fields in shape.sites]
    return [Field(f.name, f.required, merge([s[i].type for s in sites])) for i, f in enumerate(shape.fields)]


def swift_name(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def wrapped(prefix, items, suffix, indent, limit=118):
    """`prefix` + comma-separated `items` + `suffix`, one item per line if that is too long for one line."""
    line = f"{indent}{prefix}{', '.join(items)}{suffix}"
    if len(line) <= limit:
        return [line]
    return [f"{indent}{prefix}"] + [f"{indent}    {item}," for item in items] + [f"{indent}{suffix.lstrip()}"]


def swift_string(s):
    return json.dumps(s, ensure_ascii=False)


def swift_number(x):
    return repr(float(x)) if isinstance(x, float) else str(x)


def json_path(pattern):
    return "".join(f"[{p}]" if isinstance(p, int) else (p if i == 0 else f".{p}") for i, p in enumerate(pattern))


def with_value(document, pattern, value, delete=False):
    """A deep copy of `document` with the member at `pattern` replaced (or deleted)."""
    copy = json.loads(json.dumps(document))
    target = copy
    for p in pattern[:-1]:
        target = target[p]
    if delete:
        del target[pattern[-1]]
    else:
        target[pattern[-1]] = value
    return copy


def swift_json(document):
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    assert '"#' not in text
    return f'#"{text}"#'


def lower_first(s):
    return s[:1].lower() + s[1:]


def write(path, lines, written):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = "\n".join(lines) + "\n"
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
    written.add(os.path.abspath(path))


def remove_stale(directory, written, script):
    """Deletes generated files this run did not write (hand-written files are left alone)."""
    for base, _, names in os.walk(directory):
        for name in names:
            path = os.path.abspath(os.path.join(base, name))
            if path not in written and name.endswith(".swift"):
                with open(path) as f:
                    if f.readline().startswith(f"// Generated by {script}"):
                        os.remove(path)
