import Testing

@testable import OCPPRPC

@Suite struct RPCMessageTests {
    @Test func decodesTheThreeMessageTypes() throws {
        #expect(
            try RPCMessage(parsing: #"[2,"19223201","BootNotification",{"chargePointVendor":"V"}]"#)
                == .call(id: "19223201", action: "BootNotification", payload: ["chargePointVendor": "V"]))
        #expect(
            try RPCMessage(parsing: #"[3,"19223201",{"status":"Accepted"}]"#)
                == .callResult(id: "19223201", payload: ["status": "Accepted"]))
        #expect(
            try RPCMessage(parsing: #"[4,"1","NotImplemented","no",{}]"#)
                == .callError(id: "1", code: .notImplemented, description: "no", details: [:]))
    }

    @Test func acceptsCallErrorWithoutDetails() throws {
        #expect(
            try RPCMessage(parsing: #"[4,"1","GenericError","x"]"#)
                == .callError(id: "1", code: .genericError, description: "x", details: [:]))
    }

    @Test func encodesFramesCompactly() {
        #expect(RPCMessage.call(id: "1", action: "Heartbeat", payload: [:]).text == #"[2,"1","Heartbeat",{}]"#)
        #expect(RPCMessage.callResult(id: "a", payload: ["x": 1]).text == #"[3,"a",{"x":1}]"#)
    }

    struct BadFrame: Sendable, CustomTestStringConvertible {
        var text: String
        var kind: RPCFrameError.Kind
        var messageId: String?
        var code16: RPCErrorCode
        var code201: RPCErrorCode
        var testDescription: String { text }
    }

    static let badFrames: [BadFrame] = [
        .init(text: "not json", kind: .notJSON, messageId: nil, code16: .formationViolation, code201: .rpcFrameworkError),
        .init(text: #"{"a":1}"#, kind: .notRPC, messageId: nil, code16: .formationViolation, code201: .rpcFrameworkError),
        .init(text: #"["2","1","Heartbeat",{}]"#, kind: .notRPC, messageId: nil, code16: .formationViolation, code201: .rpcFrameworkError),
        .init(text: #"[2,1,"Heartbeat",{}]"#, kind: .notRPC, messageId: nil, code16: .formationViolation, code201: .rpcFrameworkError),
        .init(text: #"[2,"7","Heartbeat"]"#, kind: .malformed, messageId: "7", code16: .formationViolation, code201: .formatViolation),
        .init(text: #"[2,"7","Heartbeat",[]]"#, kind: .malformed, messageId: "7", code16: .formationViolation, code201: .formatViolation),
        .init(text: #"[2,"7","",{}]"#, kind: .malformed, messageId: "7", code16: .formationViolation, code201: .formatViolation),
        .init(text: #"[5,"7",{}]"#, kind: .unknownMessageType, messageId: "7", code16: .formationViolation, code201: .messageTypeNotSupported),
        .init(text: #"[2,"","Heartbeat",{}]"#, kind: .malformed, messageId: "", code16: .formationViolation, code201: .formatViolation),
    ]

    @Test(arguments: badFrames)
    func classifiesBadFrames(frame: BadFrame) {
        #expect {
            try RPCMessage(parsing: frame.text)
        } throws: { error in
            guard let error = error as? RPCFrameError else { return false }
            return error.kind == frame.kind && error.messageId == frame.messageId
                && error.errorCode(for: .v16) == frame.code16 && error.errorCode(for: .v201) == frame.code201
        }
    }

    @Test func rejectsOverlongMessageIdsKeepingAPrefixToAnswer() {
        let id = String(repeating: "x", count: 37)
        #expect {
            try RPCMessage(parsing: "[2,\"\(id)\",\"Heartbeat\",{}]")
        } throws: { error in
            (error as? RPCFrameError)?.messageId == String(repeating: "x", count: 36)
        }
    }

    @Test func callResultErrorsDoNotDeserveAnAnswer() {
        let error = RPCFrameError(.malformed, messageTypeId: 3, messageId: "1", "x")
        #expect(!error.deservesAnswer)
        #expect(RPCFrameError(.notJSON, "x").deservesAnswer)
    }

    @Test func payloadErrorsMapToTheVersionsSpelling() {
        #expect(PayloadError(.formation, path: "", "x").errorCode(for: .v16) == .formationViolation)
        #expect(PayloadError(.formation, path: "", "x").errorCode(for: .v201) == .formatViolation)
        #expect(PayloadError(.occurrence, path: "idTag", "x").errorCode(for: .v16) == .occurenceConstraintViolation)
        #expect(PayloadError(.type, path: "a", "x").errorCode(for: .v16) == .typeConstraintViolation)
        #expect(PayloadError(.property, path: "a", "x").errorCode(for: .v16) == .propertyConstraintViolation)
        #expect(RPCError(.formatViolation).errorCode(for: .v16) == .formationViolation)
        #expect(RPCErrorCode.allowed(in: .v16).contains(.formationViolation))
        #expect(!RPCErrorCode.allowed(in: .v16).contains(.formatViolation))
    }

    @Test func callErrorCarriesThePathInDetails() {
        let frame = RPCMessage.callError(id: "9", error: PayloadError(.occurrence, path: "idTag", "required field is missing"), version: .v16)
        #expect(frame.text == #"[4,"9","OccurenceConstraintViolation","idTag: required field is missing",{"field":"idTag"}]"#)
    }

    @Test func messageIdsAreUniqueAndShort() {
        let generator = MessageIDGenerator()
        let ids = (0..<1000).map { _ in generator.next() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count <= 36 })
    }
}

@Suite struct UnknownMemberTests {
    @Test func findsTheFirstUnknownMemberWithItsPath() {
        let known: JSONValue = ["a": 1, "list": [["x": 1], ["x": 2]]]
        #expect(JSONValue.firstUnknownMember(of: ["a": 1, "list": [["x": 1], ["x": 2]]], knownIn: known) == nil)
        #expect(JSONValue.firstUnknownMember(of: ["a": 1, "b": 2], knownIn: known) == "b")
        #expect(JSONValue.firstUnknownMember(of: ["a": 1, "list": [["x": 1], ["x": 2, "y": 3]]], knownIn: known) == "list[1].y")
        #expect(JSONValue.firstUnknownMember(of: ["a": nil], knownIn: [:]) == "a")
    }
}
