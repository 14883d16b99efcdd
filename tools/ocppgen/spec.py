"""What one OCPP version's generator supplies to the shared walker, emitters and fixtures: a subclass of `Spec` in
tools/generate-ocpp16.py or tools/generate-ocpp201.py sets the attributes and overrides the hooks that differ."""


class Spec:
    # -- The version and where its files are --------------------------------------------------------------
    name = ""  # the version as the specification spells it: "1.6", "2.0.1"
    module = ""  # the Swift target (Sources/<module>); its tests are Tests/<module>Tests/SchemaCases
    schema_dir = ""  # the schemas' folder in the PyPI `ocpp` package: "v16", "v201"
    request_suffix = ""  # how a request schema's file name ends after the action's name
    script = ""  # the generator, as the headers of the files it writes name it
    validator = None  # the jsonschema validator class of the schemas' draft

    # -- The actions -------------------------------------------------------------------------------------
    actions = []  # in the order the version's documents list them
    charge_point_initiated = set()  # actions whose request the charge point sends
    both_initiated = set()  # actions either side may send; the rest are sent by the CSMS

    # -- Swift names -------------------------------------------------------------------------------------
    objects_by_name = False  # True: object types of the same fields but different names stay apart
    enum_aliases = {}  # enumeration name -> further names (typealiases) the specification gives its values

    # -- Samples for the test fixtures, by member name (enumerations: by enumeration name) -----------------
    string_samples = {}
    int_samples = {}
    double_samples = {}
    enum_samples = {}

    # -- Hooks -------------------------------------------------------------------------------------------
    def enum_name(self, schema, key):
        """The Swift name of the enumeration `schema` (held by member `key`), or None if it has none."""
        raise NotImplementedError

    def object_name(self, schema, key):
        """The Swift name `schema`, an object held by member `key`, asks for, or None if it has none."""
        raise NotImplementedError

    def name_shapes(self, model):
        """Sets each shape's `name` from its candidate `names` (one per site); may note renames in `model.renamed`."""
        raise NotImplementedError

    def check_enum(self, model, name, values):
        """The enumeration whose `schemaValues` a check of `values` at a site of enumeration `name` may name; the
        check names it if its values are exactly `values`, and lists `values` inline otherwise."""
        return name

    def special_type(self, schema):
        """A TypeRef for a schema this version treats in its own way, or None for the shared treatment."""
        return None

    def special_sample(self, schema, key, pattern):
        """A sample value this version chooses in its own way for `schema` at `pattern`, or None."""
        return None

    def fills(self, key, pattern):
        """Whether a full sample fills the optional member `key` of the object at `pattern`."""
        return True

    def special_violations(self, schema, case):
        """Adds, through `case(name, value, expected, schema_valid=False)`, the cases of a schema this version
        treats in its own way and returns True; returns False for the shared treatment."""
        return False
