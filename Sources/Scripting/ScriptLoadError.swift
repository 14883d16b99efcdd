/// A script that failed to load: its file, the line if Lua named one, and the reason.
public struct ScriptLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The script as Lua names it (e.g. "scripts/authorize.lua").
    public var file: String
    /// The line of the error, when known.
    public var line: Int?
    /// The reason, without the file and line prefix.
    public var message: String

    /// Creates a load error.
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// "file:line: message" (or "file: message" without a line).
    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
