import OCPP201
import OCPPRPC
import Testing

/// Runs the cases that tools/generate-ocpp201.py derived from the official schemas (and confirmed with
/// `jsonschema`): valid samples, one violation per constraint, and the liberal cases the bridge accepts.
@Suite struct SchemaCaseTests {
    @Test(arguments: SchemaCase.fullSamples)
    func roundTripsTheFullSample(_ sample: SchemaCase) throws {
        let type = try #require(SchemaCase.payloadTypes[sample.typeName])
        let json = try JSONValue(parsing: sample.text)
        try roundTrip(type, json)
    }

    @Test func everyPayloadTypeHasAFullSample() {
        #expect(SchemaCase.payloadTypes.count == 78)
        #expect(Set(SchemaCase.fullSamples.map(\.typeName)) == Set(SchemaCase.payloadTypes.keys))
    }

    @Test(arguments: SchemaCase.all)
    func decodesAsTheSchemaSays(_ schemaCase: SchemaCase) throws {
        let type = try #require(SchemaCase.payloadTypes[schemaCase.typeName])
        let json = try JSONValue(parsing: schemaCase.text)
        #expect(outcome(type, json) == schemaCase.expectation)
    }

    @Test(arguments: SchemaCase.all.filter { $0.expectation == .valid })
    func validatesThroughTheActionDescriptor(_ schemaCase: SchemaCase) throws {
        let isRequest = schemaCase.typeName.hasSuffix("Request")
        let action = String(schemaCase.typeName.dropLast(isRequest ? "Request".count : "Response".count))
        let descriptor = try #require(OCPP201Actions.descriptor(for: action))
        let json = try JSONValue(parsing: schemaCase.text)
        if isRequest {
            try descriptor.validateRequest(json)
        } else {
            try descriptor.validateResponse(json)
        }
    }

    /// Decodes, encodes and decodes again: both values are equal and the JSON is unchanged.
    func roundTrip<Payload: OCPPPayload>(_ type: Payload.Type, _ json: JSONValue) throws {
        let first = try Payload(json: json)
        let second = try Payload(json: first.json)
        #expect(first == second)
        #expect(first.json == json)
    }

    func outcome<Payload: OCPPPayload>(_ type: Payload.Type, _ json: JSONValue) -> SchemaCase.Expectation {
        do {
            _ = try Payload(json: json)
            return .valid
        } catch {
            return .invalid(error.kind, error.path)
        }
    }
}
