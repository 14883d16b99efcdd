import Foundation

/// The quality of a tag's value, an open set of strings (unknown values round-trip).
public struct TagQuality: RawRepresentable, Sendable, Hashable {
    /// The stored text, e.g. "good".
    public var rawValue: String

    /// Creates a quality from its stored text.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The value is valid and current.
    public static let good = TagQuality(rawValue: "good")
    /// The value is not valid (e.g. the charge point is offline).
    public static let bad = TagQuality(rawValue: "bad")
    /// The value may be stale or imprecise.
    public static let uncertain = TagQuality(rawValue: "uncertain")
}

/// Who may write a tag through the REST API.
public enum TagAccess: String, Sendable, Hashable {
    /// Derived by the bridge from OCPP messages; read-only for clients (stored as "ro").
    case readOnly = "ro"
    /// Writable by clients: handshake answers, command requests, user tags (stored as "rw").
    case readWrite = "rw"
}

/// The current state of one tag.
public struct Tag: Sendable, Hashable {
    /// The dot-separated tag path, e.g. "CP1.Connector1.Status".
    public var name: String
    /// The current value.
    public var value: TagValue
    /// The value's quality.
    public var quality: TagQuality
    /// When the tag was last written (millisecond precision).
    public var updatedAt: Date
    /// The unit of a measured value ("Wh", "A", ...), nil where none applies.
    public var unit: String?
    /// Whether clients may write the tag.
    public var access: TagAccess

    /// Creates a tag state.
    public init(
        name: String, value: TagValue, quality: TagQuality = .good, updatedAt: Date,
        unit: String? = nil, access: TagAccess = .readOnly
    ) {
        self.name = name
        self.value = value
        self.quality = quality
        self.updatedAt = updatedAt
        self.unit = unit
        self.access = access
    }
}

/// One tag write, as queued for the database.
public struct TagWrite: Sendable {
    /// The tag to write.
    public var name: String
    /// The new value.
    public var value: TagValue
    /// The new quality.
    public var quality: TagQuality
    /// The unit; nil keeps the tag's current unit.
    public var unit: String?
    /// The tag's access; bridge-derived tags are read-only for clients.
    public var access: TagAccess
    /// The write time stored as `updated_at` (kept to the millisecond).
    public var timestamp: Date

    /// Creates a write; see the properties for the meaning of each argument.
    public init(
        name: String, value: TagValue, quality: TagQuality = .good, unit: String? = nil,
        access: TagAccess = .readOnly, timestamp: Date = Date()
    ) {
        self.name = name
        self.value = value
        self.quality = quality
        self.unit = unit
        self.access = access
        self.timestamp = timestamp
    }
}

/// One row of the change log: a tag's state right after a change of its value, type or quality.
public struct TagChange: Sendable, Hashable {
    /// The position in the change log, strictly increasing in commit order.
    public var seq: Int64
    /// The tag that changed.
    public var name: String
    /// Its value after the change.
    public var value: TagValue
    /// Its quality after the change.
    public var quality: TagQuality
    /// Its `updated_at` after the change.
    public var updatedAt: Date

    /// Creates a change-log entry.
    public init(seq: Int64, name: String, value: TagValue, quality: TagQuality, updatedAt: Date) {
        self.seq = seq
        self.name = name
        self.value = value
        self.quality = quality
        self.updatedAt = updatedAt
    }
}
