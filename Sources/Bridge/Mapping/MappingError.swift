/// A mapping file that cannot be loaded, with the place of the problem.
public struct MappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, as the directory given to `load` joined with the file name.
    public var file: String
    /// The line, starting at 1 (0 when the problem is not inside the file, e.g. it cannot be read).
    public var line: Int
    /// The column, starting at 1 (0 when unknown).
    public var column: Int
    /// What is wrong.
    public var reason: String

    /// Creates an error at a place in a file.
    public init(file: String, line: Int, column: Int, reason: String) {
        self.file = file
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(reason)" : "\(file): \(reason)"
    }
}

/// A syntax problem inside one YAML value (a path, template or condition), before it gets a place.
struct MappingSyntaxError: Error {
    var reason: String

    init(_ reason: String) { self.reason = reason }
}
