import Bridge
import OCPPRPC
import Testing

/// The rule features, on small inline mappings.
@Suite struct MappingRuleTests {
    func tags(_ rules: String, _ request: String, response: String? = nil, action: String = "Test") throws -> [MappedTag] {
        let mapping = try TagMapping(yaml: "protocol: [ocpp1.6, ocpp2.0.1]\nmessages:\n  Test:\n" + rules)
        return mapping.tags(for: action, version: .v201, context: MappingTestSupport.context(request, response: response))
    }

    @Test func missingOptionalInputProducesNoTag() throws {
        let rules = """
                - tag: "{cp}.Connector{request.connectorId}.Info"
                  value: request.info
                - tag: "{cp}.Name.{request.missing}"
                  const: 1
                - tag: "{cp}.Null"
                  value: request.nothing
            """
        let result = try tags(rules, #"{"connectorId": 1, "nothing": null}"#)
        #expect(result.isEmpty, "\(result)")
        #expect(try tags(rules, #"{"info": "x"}"#).isEmpty)
    }

    @Test func typeConversions() throws {
        let rules = """
                - {tag: "N", value: request.a, type: number}
                - {tag: "I", value: request.b, type: integer}
                - {tag: "B", value: request.c, type: bool}
                - {tag: "S", value: request.d, type: string}
                - {tag: "T", value: request.e, type: time}
                - {tag: "J", value: request.f}
                - {tag: "X", value: request.g, type: integer}
            """
        let request = #"{"a": "12.5", "b": "42", "c": "TRUE", "d": 7, "e": "2025-03-01T12:00:00.5-02:00","#
            + #" "f": {"k": [1, 2]}, "g": "1.5"}"#
        #expect(
            try tags(rules, request) == [
                MappedTag(name: "N", value: .double(12.5)),
                MappedTag(name: "I", value: .int(42)),
                MappedTag(name: "B", value: .bool(true)),
                MappedTag(name: "S", value: .string("7")),
                MappedTag(name: "T", value: .string("2025-03-01T14:00:00.500Z")),
                MappedTag(name: "J", value: .string(#"{"k":[1,2]}"#)),
            ])
    }

    @Test func conditions() throws {
        let rules = """
                - {tag: "Eq", const: true, when: response.status == Accepted}
                - {tag: "Ne", const: true, when: "response.status != 'Accepted'"}
                - {tag: "Num", const: true, when: request.n == 3}
                - {tag: "Present", const: true, when: request.n}
                - {tag: "Absent", const: true, when: "!request.gone"}
                - {tag: "Both", const: true, when: [request.n, "response.status == Accepted"]}
            """
        #expect(
            try tags(rules, #"{"n": 3.0}"#, response: #"{"status": "Accepted"}"#).map(\.name)
                == ["Eq", "Num", "Present", "Absent", "Both"])
        #expect(try tags(rules, #"{"n": 4}"#, response: #"{"status": "Rejected"}"#).map(\.name) == ["Ne", "Present", "Absent"])
        // A comparison with a missing value is false either way.
        #expect(try tags(rules, #"{}"#).map(\.name) == ["Absent"])
    }

    @Test func nestedEachWithParentOptionalSegmentsAndDefaults() throws {
        let rules = """
                - each: request.groups[*].items[*]
                  defaults: {item.kind: Plain, item.unit: Wh}
                  tag: "{cp}.{parent.name}.{item.kind}[.{item.phase}][#{item.index}]"
                  value: item.value ?? 'none'
                  unit: item.unit
            """
        let request = #"{"groups": [{"name": "G1", "items": [{"value": 1, "phase": "L1", "index": 2}, {"kind": "K"}]},"#
            + #" {"name": "G2", "items": []}, {"items": [{"value": 3}]}]}"#
        #expect(
            try tags(rules, request) == [
                MappedTag(name: "CP1.G1.Plain.L1#2", value: 1, unit: "Wh"),
                MappedTag(name: "CP1.G1.K", value: "none", unit: "Wh"),
            ])
    }

    @Test func laterFilesAddRules() throws {
        let dir = try MappingTestSupport.temporaryDirectory(files: [
            "10-base.yaml": "protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - {tag: \"{cp}.A\", const: 1}\n",
            "20-site.yml": "protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - {tag: \"{cp}.B\", value: cp}\n",
            "notes.txt": "not a mapping",
        ])
        let mapping = try TagMapping.load(directory: dir)
        let result = mapping.tags(for: "Heartbeat", version: .v16, context: MappingTestSupport.context("{}"))
        #expect(result == [MappedTag(name: "CP1.A", value: 1), MappedTag(name: "CP1.B", value: "CP1")])
        #expect(mapping.actions(for: .v201).isEmpty)
    }

    @Test func indexedPathsAndExtras() throws {
        let mapping = try TagMapping(
            yaml: """
                protocol: ocpp1.6
                messages:
                  StopTransaction:
                    - tag: "{cp}.Connector{extra.connectorId}.First"
                      value: request.transactionData[0].timestamp
                      type: time
                """)
        let context = MappingTestSupport.context(
            #"{"transactionData": [{"timestamp": "2025-03-01T12:00:00Z", "sampledValue": []}]}"#,
            extra: ["connectorId": 3])
        #expect(
            mapping.tags(for: "StopTransaction", version: .v16, context: context) == [
                MappedTag(name: "CP1.Connector3.First", value: "2025-03-01T12:00:00.000Z")
            ])
    }
}
