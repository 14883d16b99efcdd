import Foundation
import Testing

@testable import OCPPRPC

@Suite struct DateTimeTests {
    @Test(arguments: [
        ("2026-01-02T03:04:05Z", 1_767_323_045.0),
        ("2026-01-02T03:04:05.250Z", 1_767_323_045.25),
        ("2026-01-02T05:04:05+02:00", 1_767_323_045.0),
        ("2026-01-02T01:04:05-0200", 1_767_323_045.0),
        ("2026-01-02T03:04:05", 1_767_323_045.0),
        ("1970-01-01T00:00:00Z", 0.0),
    ])
    func parsesRFC3339Liberally(text: String, epoch: Double) throws {
        let date = try #require(OCPPDateTime.parse(text))
        #expect(abs(date.timeIntervalSince1970 - epoch) < 0.0005)
    }

    @Test(arguments: ["", "2026-13-02T03:04:05Z", "2026-01-02 03:04", "yesterday", "2026-01-02T03:04:05Zjunk", "2026-01-02T03:04:05."])
    func rejectsNonDates(text: String) {
        #expect(OCPPDateTime.parse(text) == nil)
    }

    @Test func formatsUTCWithMillisAndZ() {
        #expect(OCPPDateTime.format(Date(timeIntervalSince1970: 1_767_323_045.25)) == "2026-01-02T03:04:05.250Z")
        #expect(OCPPDateTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
