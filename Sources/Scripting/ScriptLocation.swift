/// The file, line and text of a Lua error message ("scripts/a.lua:12: attempt to call a nil value").
struct ScriptLocation {
    var file: String
    var line: Int?
    var text: String

    /// Splits the first line of `message`; without a location prefix the file is `defaultFile`.
    init(message: String, defaultFile: String) {
        let firstLine = message.prefix { $0 != "\n" }
        file = defaultFile
        line = nil
        text = String(firstLine)
        var searchStart = firstLine.startIndex
        while let colon = firstLine[searchStart...].firstIndex(of: ":") {
            let afterColon = firstLine.index(after: colon)
            let digits = firstLine[afterColon...].prefix { $0.isASCII && $0.isNumber }
            if colon > firstLine.startIndex, !digits.isEmpty, digits.endIndex < firstLine.endIndex,
                firstLine[digits.endIndex] == ":", let number = Int(digits)
            {
                file = String(firstLine[..<colon])
                line = number
                text = String(firstLine[firstLine.index(after: digits.endIndex)...].drop { $0 == " " })
                return
            }
            searchStart = afterColon
        }
    }
}
