import Foundation
import OCPP201
import OCPPRPC
import Testing

/// Each kind of schema violation, with its JSON path, on real OCPP 2.0.1 messages.
@Suite struct ViolationTests {
    func violation<Payload: OCPPPayload>(_ type: Payload.Type, _ text: String) throws -> PayloadError? {
        do {
            _ = try Payload(json: try JSONValue(parsing: text))
            return nil
        } catch let error as PayloadError {
            return error
        }
    }

    /// A valid TransactionEvent with `fields` replacing or adding members (`null` deletes a member).
    static func transactionEvent(_ fields: [String: JSONValue]) -> String {
        var members: [String: JSONValue] = [
            "eventType": "Started", "timestamp": "2026-01-02T03:04:05.000Z", "triggerReason": "Authorized",
            "seqNo": 0, "transactionInfo": ["transactionId": "TX-4711"], "evse": ["id": 1],
            "idToken": ["idToken": "04A2B3C4D5E6F7", "type": "ISO14443"],
        ]
        for (key, value) in fields {
            members[key] = value == .null ? nil : value
        }
        return JSONValue.object(members).jsonText
    }

    @Test func theBaseTransactionEventIsValid() throws {
        #expect(try violation(TransactionEventRequest.self, Self.transactionEvent([:])) == nil)
    }

    @Test func missingTransactionInfoIsAnOccurrenceViolation() throws {
        let text = Self.transactionEvent(["transactionInfo": nil])
        let error = try #require(try violation(TransactionEventRequest.self, text))
        #expect(error.kind == .occurrence)
        #expect(error.path == "transactionInfo")
        #expect(error.errorCode(for: .v201) == .occurenceConstraintViolation)
    }

    @Test func stringEvseIdIsATypeViolation() throws {
        let text = Self.transactionEvent(["evse": ["id": "1"]])
        let error = try #require(try violation(TransactionEventRequest.self, text))
        #expect(error.kind == .type)
        #expect(error.path == "evse.id")
        #expect(error.reason == "expected integer, got string")
    }

    @Test func idTokenOver36CharactersIsAPropertyViolation() throws {
        let long = String(repeating: "A", count: 37)
        let text = Self.transactionEvent(["idToken": ["idToken": .string(long), "type": "ISO14443"]])
        let error = try #require(try violation(TransactionEventRequest.self, text))
        #expect(error.kind == .property)
        #expect(error.path == "idToken.idToken")
        #expect(error.reason == "longer than 36 characters")
        let exact = Self.transactionEvent(["idToken": ["idToken": .string(String(long.dropLast())), "type": "Local"]])
        #expect(try violation(TransactionEventRequest.self, exact) == nil)
    }

    @Test func badEventTypeIsAPropertyViolation() throws {
        let error = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["eventType": "Paused"])))
        #expect(error.kind == .property)
        #expect(error.path == "eventType")
        #expect(error.reason.hasPrefix("'Paused' is not one of Ended, Started, Updated"))
    }

    @Test func badTimestampIsAPropertyViolation() throws {
        let error = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["timestamp": "yesterday"])))
        #expect(error.kind == .property)
        #expect(error.path == "timestamp")
    }

    @Test func stringMeterValueIsATypeViolationWithItsPath() throws {
        let meterValue: JSONValue = [["timestamp": "2026-01-02T03:04:05.000Z",
                                      "sampledValue": [["value": 1.5], ["value": "16.1"]]]]
        let error = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["meterValue": meterValue])))
        #expect(error.kind == .type)
        #expect(error.path == "meterValue[0].sampledValue[1].value")
        #expect(error.reason == "expected number, got string")
    }

    @Test func emptyArraysAreAPropertyViolation() throws {
        let error = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["meterValue": []])))
        #expect(error.kind == .property)
        #expect(error.path == "meterValue")
    }

    @Test func notAnObjectIsAFormationViolation() throws {
        let error = try #require(try violation(TransactionEventRequest.self, "[]"))
        #expect(error.kind == .formation)
        #expect(error.path == "")
        #expect(error.errorCode(for: .v201) == .formatViolation)
        let nested = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["evse": 1])))
        #expect(nested.kind == .formation)
        #expect(nested.path == "evse")
    }

    @Test func customDataMustBeAnObjectAndIsNotValidatedFurther() throws {
        let error = try #require(try violation(TransactionEventRequest.self, Self.transactionEvent(["customData": "x"])))
        #expect(error.kind == .type)
        #expect(error.path == "customData")
        #expect(try violation(TransactionEventRequest.self, Self.transactionEvent(["customData": ["x": 1]])) == nil)
    }

    @Test func unknownMembersAreIgnored() throws {
        let text = Self.transactionEvent(["vendorExtension": ["x": 1]])
        let request = try TransactionEventRequest(json: try JSONValue(parsing: text))
        #expect(request.json["vendorExtension"] == nil)
        #expect(request.idToken?.type == .iso14443)
    }

    @Test func itemCountsAreChecked() throws {
        let five = #"{"requestId": 1, "componentCriteria": ["Active", "Available", "Enabled", "Problem", "Active"]}"#
        let error = try #require(try violation(GetReportRequest.self, five))
        #expect(error.kind == .property)
        #expect(error.path == "componentCriteria")
        let bad = #"{"requestId": 1, "componentCriteria": ["Broken"]}"#
        let item = try #require(try violation(GetReportRequest.self, bad))
        #expect(item.kind == .property)
        #expect(item.path == "componentCriteria[0]")
        let empty = try #require(try violation(GetVariablesRequest.self, #"{"getVariableData": []}"#))
        #expect(empty.kind == .property)
        #expect(empty.path == "getVariableData")
    }

    @Test func missingIdTokenTypeIsAnOccurrenceViolation() throws {
        let error = try #require(try violation(AuthorizeRequest.self, #"{"idToken": {"idToken": "04A2B3C4"}}"#))
        #expect(error.kind == .occurrence)
        #expect(error.path == "idToken.type")
    }
}
