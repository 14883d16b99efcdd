import Foundation
import OCPP16
import OCPPRPC
import Testing

/// Date-times are read liberally and always written in UTC with `Z`.
@Suite struct DateTests {
    static let accepted: [(String, Double)] = [
        ("2026-01-02T03:04:05Z", 1_767_323_045),
        ("2026-01-02T03:04:05.123+02:00", 1_767_315_845.123),
        ("2026-01-02T03:04:05+02:00", 1_767_315_845),
        ("2026-01-02T03:04:05.5Z", 1_767_323_045.5),
    ]

    @Test(arguments: accepted)
    func acceptsRFC3339Forms(_ text: String, _ seconds: Double) throws {
        let response = try HeartbeatResponse(json: ["currentTime": .string(text)])
        #expect(abs(response.currentTime.timeIntervalSince1970 - seconds) < 0.0005)
        let written = try #require(response.json["currentTime"]?.stringValue)
        #expect(written.hasSuffix("Z"))
        #expect(try HeartbeatResponse(json: response.json) == response)
    }

    @Test func writesUTCWithMilliseconds() {
        let response = HeartbeatResponse(currentTime: Date(timeIntervalSince1970: 1_767_315_845.123))
        #expect(response.json == ["currentTime": "2026-01-02T01:04:05.123Z"])
    }

    @Test func rejectsANonStringDate() throws {
        #expect(throws: PayloadError(.type, path: "currentTime", "expected date-time string, got integer")) {
            try HeartbeatResponse(json: ["currentTime": 5])
        }
    }
}
