import Foundation
import GRDB
import GRDBSQLite

/// SQL and row decoding for the `tags` and `tag_changes` tables.
enum TagRows {
    static let selectTags = "SELECT name, value, type, quality, updated_at, unit, access FROM tags"

    /// Inserts or updates a tag, touching an existing row only when something changes or
    /// `updated_at` must move; the triggers decide whether the change log gets a row.
    static let upsert = """
        INSERT INTO tags (name, value, type, quality, updated_at, unit, access)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET
            value = excluded.value,
            type = excluded.type,
            quality = excluded.quality,
            updated_at = excluded.updated_at,
            unit = coalesce(excluded.unit, tags.unit),
            access = excluded.access
        WHERE tags.value IS NOT excluded.value
            OR tags.type IS NOT excluded.type
            OR tags.quality IS NOT excluded.quality
            OR tags.updated_at IS NOT excluded.updated_at
            OR (excluded.unit IS NOT NULL AND tags.unit IS NOT excluded.unit)
            OR tags.access IS NOT excluded.access
        """

    /// A tag's value, type and quality as stored: what ``TagBatch`` compares writes with.
    static let selectState = "SELECT value, type, quality FROM tags WHERE name = ?"

    static let selectChanges = """
        SELECT seq, name, value, type, quality, updated_at FROM tag_changes
        WHERE seq > ? ORDER BY seq LIMIT ?
        """

    /// Deletes all but the newest `?` rows of the change log.
    static let trimChanges = """
        DELETE FROM tag_changes
        WHERE seq <= (SELECT seq FROM tag_changes ORDER BY seq DESC LIMIT 1 OFFSET ?)
        """

    /// The statements one batch runs, each looked up in GRDB's statement cache once per batch rather than once
    /// per row (the lookup hashes the SQL text).
    private struct BatchStatements {
        let db: Database
        let selectState: BoundStatement
        let upsert: BoundStatement
        /// `insertChanges` of 1, 2, 4, ... 64 rows, fetched when first needed.
        var insertChanges: [BoundStatement?] = Array(repeating: nil, count: TagRows.insertChanges.count)

        init(_ db: Database) throws {
            self.db = db
            selectState = try BoundStatement(db, sql: TagRows.selectState)
            upsert = try BoundStatement(db, sql: TagRows.upsert)
        }

        /// The insert of `1 << power` change-log rows.
        mutating func insertChanges(power: Int) throws -> BoundStatement {
            if let statement = insertChanges[power] { return statement }
            let statement = try BoundStatement(db, sql: TagRows.insertChanges[power])
            insertChanges[power] = statement
            return statement
        }
    }

    /// A tag's value, type and quality as stored (nil: no row).
    private static func state(of name: String, with select: BoundStatement) throws -> TagBatch.State? {
        try select.bind(name, at: 1)
        return try select.firstRow { row in
            TagBatch.State(
                value: DatabaseValue(sqliteStatement: row, index: 0),
                type: sqlite3_column_type(row, 1) == SQLITE_NULL ? nil : String(sqliteStatement: row, index: 1),
                quality: sqlite3_column_type(row, 2) == SQLITE_NULL
                    ? TagQuality.good.rawValue : String(sqliteStatement: row, index: 2))
        }
    }

    /// Writes one tag with the cached upsert statement (one write at a time, as the triggers expect a batch to
    /// read: `TagBatchTests` compares `write` with it).
    static func upsert(_ write: TagWrite, in db: Database) throws {
        try upsert(write, with: BoundStatement(db, sql: upsert))
    }

    /// Writes one tag with the upsert statement.
    private static func upsert(_ write: TagWrite, with statement: BoundStatement) throws {
        try bindLogged(write, to: statement, from: 1)
        try statement.bind(write.unit, at: 6)
        try statement.bind(write.access.rawValue, at: 7)
        try statement.run()
    }

    /// Binds the five columns `tags` and `tag_changes` share (name, value, type, quality, updated_at) to the
    /// parameters `first` to `first + 4`.
    private static func bindLogged(_ write: TagWrite, to statement: BoundStatement, from first: Int32) throws {
        try statement.bind(write.name, at: first)
        try statement.bind(write.value.databaseValue, at: first + 1)
        try statement.bind(write.value.typeName, at: first + 2)
        try statement.bind(write.quality.rawValue, at: first + 3)
        try statement.bind(Timestamp.format(write.timestamp), at: first + 4)
    }

    /// Commits a batch of queued writes as ``TagBatch`` plans it: the change log gets the rows it would get
    /// from upserting every write in turn, with one or two upserts per tag.
    static func write(_ batch: [TagWrite], in db: Database) throws {
        var statements = try BatchStatements(db)
        let steps = try TagBatch.plan(batch) { name in try state(of: name, with: statements.selectState) }
        var changes: [TagWrite] = []
        for (write, step) in zip(batch, steps) {
            switch step {
            case .skip:
                continue
            case .log:
                changes.append(write)
            case .logThenUpsert:
                changes.append(write)
                try insertChanges(&changes, with: &statements)
                try upsert(write, with: statements.upsert)
            case .upsert:
                try insertChanges(&changes, with: &statements)
                try upsert(write, with: statements.upsert)
            }
        }
        try insertChanges(&changes, with: &statements)
    }

    /// Appends `changes` to the change log in order, in multi-row inserts of up to 64 rows, and empties it.
    private static func insertChanges(_ changes: inout [TagWrite], with statements: inout BatchStatements) throws {
        var start = changes.startIndex
        while start < changes.endIndex {
            // Chunks of 64, 32, ... 1 rows: at most seven statements in the cache.
            var size = 64
            while size > changes.endIndex - start { size /= 2 }
            let statement = try statements.insertChanges(power: size.trailingZeroBitCount)
            var first: Int32 = 1
            for write in changes[start..<start + size] {
                try bindLogged(write, to: statement, from: first)
                first += 5
            }
            try statement.run()
            start += size
        }
        changes.removeAll(keepingCapacity: true)
    }

    /// `INSERT INTO tag_changes` of 1, 2, 4, ... 64 rows.
    private static let insertChanges = (0...6).map { power in
        "INSERT INTO tag_changes (name, value, type, quality, updated_at) VALUES "
            + repeatElement("(?, ?, ?, ?, ?)", count: 1 << power).joined(separator: ", ")
    }

    /// Every tag, keyed by name.
    static func fetchAll(_ db: Database) throws -> [String: Tag] {
        var tags: [String: Tag] = [:]
        for row in try Row.fetchAll(db, sql: selectTags) {
            let tag = try tag(from: row)
            tags[tag.name] = tag
        }
        return tags
    }

    /// The current rows of the named tags; a name without a row maps to nil (deleted).
    static func fetch(_ db: Database, names: Set<String>) throws -> [String: Tag?] {
        let statement = try db.cachedStatement(sql: selectTags + " WHERE name = ?")
        var tags: [String: Tag?] = [:]
        for name in names {
            tags[name] = try Row.fetchOne(statement, arguments: [name]).map(tag(from:))
        }
        return tags
    }

    /// Change-log rows with `seq > seq`, oldest first.
    static func changes(_ db: Database, after seq: Int64, limit: Int = -1) throws -> [TagChange] {
        let statement = try db.cachedStatement(sql: selectChanges)
        return try Row.fetchAll(statement, arguments: [seq, limit]).map { row in
            let type: String? = try row.decode(atIndex: 3)
            return TagChange(
                seq: try row.decode(atIndex: 0),
                name: try row.decode(atIndex: 1),
                value: TagValue(databaseValue: try row.decode(atIndex: 2), typeName: type),
                quality: TagQuality(rawValue: try row.decode(String?.self, atIndex: 4) ?? "good"),
                updatedAt: date(try row.decode(atIndex: 5))
            )
        }
    }

    /// The highest seq ever allocated in the change log (0 if none), which survives trimming.
    static func lastSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'tag_changes'") ?? 0
    }

    private static func tag(from row: Row) throws -> Tag {
        let type: String? = try row.decode(atIndex: 2)
        let access: String? = try row.decode(atIndex: 6)
        return Tag(
            name: try row.decode(atIndex: 0),
            value: TagValue(databaseValue: try row.decode(atIndex: 1), typeName: type),
            quality: TagQuality(rawValue: try row.decode(String?.self, atIndex: 3) ?? "good"),
            updatedAt: date(try row.decode(atIndex: 4)),
            unit: try row.decode(atIndex: 5),
            access: access.flatMap(TagAccess.init(rawValue:)) ?? .readWrite
        )
    }

    /// A stored time; a missing or malformed one (written by another process) reads as the epoch.
    static func date(_ text: String?) -> Date {
        text.flatMap(Timestamp.parse) ?? Date(timeIntervalSince1970: 0)
    }
}
