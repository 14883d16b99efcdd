import Bridge
import Testing

/// Broken mapping files are reported with file, line and column.
@Suite struct MappingErrorTests {
    func error(_ yaml: String) throws -> MappingError {
        try #require(try MappingTestSupport.loadError(yaml))
    }

    @Test func badYAMLSyntax() throws {
        let e = try error(
            """
            protocol: ocpp1.6
            messages:
              Heartbeat:
                - tag: "{cp}.Heartbeat.Last
                  value: now
            """)
        #expect(e.file == "broken.yaml")
        #expect(e.line >= 4)
        #expect(e.reason.hasPrefix("invalid YAML"))
        #expect(e.description.hasPrefix("broken.yaml:\(e.line):\(e.column): invalid YAML"))
    }

    @Test func unknownKey() throws {
        let e = try error(
            """
            protocol: ocpp1.6
            messages:
              Heartbeat:
                - tag: "{cp}.Heartbeat.Last"
                  vlaue: now
            """)
        #expect(
            e.description
                == "broken.yaml:5:7: unknown key 'vlaue' (expected one of tag, value, const, type, unit, each, when, defaults)")
    }

    @Test func unknownTopLevelKeyAndMissingProtocol() throws {
        #expect(try error("protocols: ocpp1.6\nmessages: {}\n").description.hasPrefix("broken.yaml:1:1: unknown key 'protocols'"))
        #expect(try error("messages: {}\n").description == "broken.yaml:1:1: missing key 'protocol' (e.g. protocol: ocpp1.6)")
        #expect(try error("protocol: ocpp1.5\nmessages: {}\n").description.hasPrefix("broken.yaml:1:11: unknown protocol 'ocpp1.5'"))
    }

    @Test(arguments: [
        ("\"{cp}.Connector{request.connectorId.Status\"", "unclosed '{'"),
        ("\"{cp}.Meter}\"", "unmatched '}'"),
        ("\"{cp}.Meter[.{item.phase}\"", "'item' is only available in a rule with 'each'"),
        ("\"{cp}.Meter[.phase]\"", "optional segment without a {…} value"),
        ("\"{reqest.connectorId}\"", "unknown path root 'reqest'"),
        ("\"{cp.name}\"", "'cp' has no fields"),
        ("\"{request.meterValue[*]}\"", "[*] is only allowed in 'each'"),
        ("\"{request.a ?? }\"", "missing operand around '??'"),
    ])
    func badTemplate(template: String, reason: String) throws {
        let e = try error(
            """
            protocol: ocpp1.6
            messages:
              StatusNotification:
                - value: request.status
                  tag: \(template)
            """)
        #expect(e.file == "broken.yaml")
        #expect(e.line == 5)
        #expect(e.column == 12)
        #expect(e.reason.contains(reason), "\(e)")
    }

    @Test func badTypeName() throws {
        let e = try error(
            """
            protocol: ocpp1.6
            messages:
              MeterValues:
                - each: request.meterValue[*].sampledValue[*]
                  tag: "{cp}.Meter.{item.measurand}"
                  value: item.value
                  type: numbr
            """)
        #expect(
            e.description == "broken.yaml:7:13: unknown type 'numbr' (expected one of number, integer, bool, string, time)")
    }

    @Test func pathsThatCannotExist() throws {
        let parent = try error(
            """
            protocol: ocpp1.6
            messages:
              MeterValues:
                - each: request.meterValue[*]
                  tag: "{cp}.Meter.{parent.timestamp}"
                  value: item.timestamp
            """)
        #expect(parent.description == "broken.yaml:5:12: 'parent' is only available when 'each' has two [*] levels")
        let each = try error(
            """
            protocol: ocpp1.6
            messages:
              MeterValues:
                - each: request.meterValue
                  tag: "{cp}.Meter"
                  value: request.connectorId
            """)
        #expect(each.description == "broken.yaml:4:13: an 'each' path must end with [*] ('request.meterValue')")
    }

    @Test func ruleShapeErrors() throws {
        let both = try error(
            "protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - tag: \"{cp}.X\"\n      value: now\n      const: 1\n")
        #expect(both.description == "broken.yaml:6:14: a rule has either 'value' or 'const', not both")
        let neither = try error("protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - tag: \"{cp}.X\"\n")
        #expect(neither.description == "broken.yaml:4:7: a rule needs 'value' (a path) or 'const' (a literal)")
        let constType = try error(
            "protocol: ocpp1.6\nmessages:\n  Heartbeat:\n    - tag: \"{cp}.X\"\n      const: abc\n      type: integer\n")
        #expect(constType.description == "broken.yaml:5:14: const \"abc\" is not of type integer")
        let duplicate = try error("protocol: ocpp1.6\nprotocol: ocpp1.6\nmessages: {}\n")
        #expect(duplicate.reason == "duplicate key 'protocol'")
    }

    @Test func unreadableDirectory() {
        #expect(throws: MappingError.self) { try TagMapping.load(directory: "/nonexistent/mappings") }
    }
}
