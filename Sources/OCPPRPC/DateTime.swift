import Foundation

/// RFC 3339 date-times as OCPP uses them: liberal when reading, always UTC with `Z` when writing.
public enum OCPPDateTime {
    /// Parses an RFC 3339 date-time, with or without fractional seconds, with `Z` or an offset.
    /// Also accepts a missing offset (read as UTC), which some chargers send.
    public static func parse(_ text: String) -> Date? {
        let utf8 = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= utf8.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                let c = utf8[i]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard utf8.count >= 19,
            let year = digits(0, 4), utf8[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), utf8[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t") || utf8[10] == 0x20,
            let hour = digits(11, 2), utf8[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), utf8[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var fraction = 0.0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < utf8.count, utf8[index] >= 48, utf8[index] <= 57 {
                fraction += Double(utf8[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetSeconds = 0
        if index < utf8.count {
            let c = utf8[index]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                index += 1
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                guard let oh = digits(index + 1, 2) else { return nil }
                var om = 0
                if index + 3 < utf8.count, utf8[index + 3] == UInt8(ascii: ":") {
                    guard let m = digits(index + 4, 2) else { return nil }
                    om = m
                    index += 6
                } else if let m = digits(index + 3, 2) {
                    om = m
                    index += 5
                } else {
                    index += 3
                }
                offsetSeconds = (oh * 3600 + om * 60) * (c == UInt8(ascii: "-") ? -1 : 1)
            } else {
                return nil
            }
        }
        guard index == utf8.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Formats a date as `YYYY-MM-DDThh:mm:ss.sssZ` in UTC, rounded to the millisecond.
    public static func format(_ date: Date) -> String {
        format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// Formats milliseconds since 1970 as `YYYY-MM-DDThh:mm:ss.sssZ`: one allocation, no Foundation (every
    /// answer and tag write carries a time, so this is on the hot path).
    static func format(milliseconds total: Int64) -> String {
        let seconds = total >= 0 ? total / 1000 : -((-total + 999) / 1000)
        let millis = Int(total - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400)
        let secondOfDay = Int(seconds - days * 86400)
        let (year, month, day) = civilFromDays(Int(days))
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, width: Int, at start: Int) {
                var value = value
                for index in stride(from: start + width - 1, through: start, by: -1) {
                    buffer[index] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
            }
            put(min(max(year, 0), 9999), width: 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, width: 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, width: 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3600, width: 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, width: 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, width: 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(millis, width: 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    // Howard Hinnant's days-from-civil algorithms (public domain).
    package static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    package static func civilFromDays(_ z: Int) -> (Int, Int, Int) {
        let z = z + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
