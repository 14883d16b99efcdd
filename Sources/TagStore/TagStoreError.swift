/// An error of the tag store; errors of the same kind compare equal, whatever their context.
public struct TagStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case cannotOpen
        case migrationFailed
        case invalidSchema
        case storageFailed
        case closed
    }

    private let code: Code
    /// What the store was doing, e.g. "startTransaction".
    public let operation: String
    /// A human-readable reason.
    public let reason: String
    /// The error that caused this one (typically a GRDB `DatabaseError`), if any.
    public let underlying: (any Error)?

    private init(_ code: Code, operation: String = "", reason: String = "", underlying: (any Error)? = nil) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.underlying = underlying
    }

    /// The database file could not be opened.
    public static let cannotOpen = TagStoreError(.cannotOpen)
    /// A schema migration failed.
    public static let migrationFailed = TagStoreError(.migrationFailed)
    /// The embedded schema is malformed (no `-- migration:` line, or a duplicate name).
    public static let invalidSchema = TagStoreError(.invalidSchema)
    /// A read or write of the database failed.
    public static let storageFailed = TagStoreError(.storageFailed)
    /// The store was closed.
    public static let closed = TagStoreError(.closed)

    static func cannotOpen(path: String, underlying: any Error) -> TagStoreError {
        TagStoreError(.cannotOpen, operation: "open", reason: "cannot open \(path)", underlying: underlying)
    }

    static func migrationFailed(_ migration: String, underlying: any Error) -> TagStoreError {
        TagStoreError(.migrationFailed, operation: "migrate", reason: "migration \(migration) failed", underlying: underlying)
    }

    static func invalidSchema(_ reason: String) -> TagStoreError {
        TagStoreError(.invalidSchema, operation: "migrate", reason: reason)
    }

    static func storageFailed(_ operation: String, underlying: any Error) -> TagStoreError {
        TagStoreError(.storageFailed, operation: operation, reason: "database error", underlying: underlying)
    }

    static func closed(_ operation: String) -> TagStoreError {
        TagStoreError(.closed, operation: operation, reason: "the tag store is closed")
    }

    /// Two errors are equal when they are of the same kind.
    public static func == (lhs: TagStoreError, rhs: TagStoreError) -> Bool {
        lhs.code == rhs.code
    }

    /// The kind, the operation, the reason and the underlying error.
    public var description: String {
        var text = "TagStoreError.\(code.rawValue)"
        if !operation.isEmpty { text += " (\(operation))" }
        if !reason.isEmpty { text += ": \(reason)" }
        if let underlying { text += ": \(underlying)" }
        return text
    }
}
