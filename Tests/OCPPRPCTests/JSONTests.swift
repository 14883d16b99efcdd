import Testing

@testable import OCPPRPC

@Suite struct JSONTests {
    @Test func parsesScalarsKeepingIntegersApart() throws {
        let value = try JSONValue(parsing: #"{"a": 1, "b": 1.5, "c": -0, "d": 1e3, "e": true, "f": null, "g": "x"}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .double(1.5))
        #expect(value["c"] == .int(0))
        #expect(value["d"] == .double(1000))
        #expect(value["e"] == .bool(true))
        #expect(value["f"] == .null)
        #expect(value["g"] == .string("x"))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #"["a\"b\\c\/d\n\t", "\u00e9\ud83d\ude00", "RDAM|123"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\t"), .string("é😀"), .string("RDAM|123")]))
    }

    @Test(arguments: [
        "", "[", "{\"a\":}", "[1,]", "tru", "01", "1.", "\"abc", "{\"a\" 1}", "[1] x", "\"\\x\"", "\"\\ud800\"",
        "\"a\u{01}\"", "-", "1e",
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func limitsNestingDepth() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let shallow = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        #expect(throws: Never.self) { try JSONValue(parsing: shallow) }
    }

    @Test func writesCompactSortedJSONThatParsesBack() throws {
        let value: JSONValue = ["b": [1, 2.5, "x\"y\n", nil, true], "a": ["nested": "é"], "c": .int(-7)]
        #expect(value.jsonText == #"{"a":{"nested":"é"},"b":[1,2.5,"x\"y\n",null,true],"c":-7}"#)
        #expect(try JSONValue(parsing: value.jsonText) == value)
    }

    @Test func writesControlCharactersEscaped() {
        #expect(JSONValue.string("\u{01}").jsonText == #""\u0001""#)
    }

    @Test func integerViewAcceptsIntegralDecimals() {
        #expect(JSONValue.double(1.0).intValue == 1)
        #expect(JSONValue.double(1.5).intValue == nil)
        #expect(JSONValue.string("1").intValue == nil)
    }
}
