import Foundation
import GRDB
import Testing

@testable import TagStore

/// Migration v5 rebuilds `tags` with its `type` rule spelled as comparisons (schema.sql).
@Suite struct TagsTableRebuildTests {
    /// The rows an older bridge (and other writers, through the triggers) left are all still there, change log
    /// included, and the triggers and rules work as before.
    @Test func aVersion4DatabaseKeepsItsTagsAndChangeLog() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let migrations = try SchemaMigrations.parse(Schema.sql)
        let upToV4 = migrations.prefix { $0.name != "v5" }
        #expect(upToV4.map(\.name) == ["v1", "v2", "v3", "v4"])
        let pool = try DatabasePool(path: database.path)
        try SchemaMigrations.migrator(schema: upToV4.map { "-- migration: \($0.name)\n\($0.sql)" }.joined()).migrate(pool)
        try pool.close()
        try database.sqlite(
            """
            INSERT INTO tags (name, value) VALUES ('CP1.Online', 1), ('CP1.Meter', 11.5), ('CP1.Status', 'Charging'),
                ('CP1.Note', NULL);
            INSERT INTO tags (name, value, type) VALUES ('CP1.Flag', 'true', 'bool'), ('CP1.Count', '42', 'int');
            INSERT INTO tags (name, value, type, quality, updated_at, unit, access)
                VALUES ('CP1.Power', 7.2, 'double', 'uncertain', '2025-01-31T12:00:00.000Z', 'kW', 'ro');
            UPDATE tags SET value = 'Finishing' WHERE name = 'CP1.Status';
            """)
        let rows = "SELECT name, quote(value), type, quality, updated_at, unit, access FROM tags ORDER BY name"
        let changes = "SELECT seq, name, quote(value), type, quality, updated_at FROM tag_changes ORDER BY seq"
        let tagsBefore = try database.sqlite(rows)
        let changesBefore = try database.sqlite(changes)
        #expect(tagsBefore.split(separator: "\n").count == 7)
        #expect(changesBefore.split(separator: "\n").count == 8)

        let store = try database.open()
        #expect(store.value("CP1.Status") == .string("Finishing"))
        await store.close()
        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")
        #expect(try database.sqlite(rows) == tagsBefore)
        #expect(try database.sqlite(changes) == changesBefore)
        #expect(
            try database.sqlite("SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE tbl_name = 'tags' ORDER BY name)")
                == "tags,tags_after_insert,tags_after_update")

        // The triggers: a write completes the row and is logged; the same value again is not.
        try database.sqlite("UPDATE tags SET value = '3' WHERE name = 'CP1.Count'")
        try database.sqlite("UPDATE tags SET value = 3 WHERE name = 'CP1.Count'")
        #expect(try database.sqlite("SELECT quote(value), type FROM tags WHERE name = 'CP1.Count'") == "3|int")
        #expect(try database.sqlite("SELECT count(*) FROM tag_changes WHERE name = 'CP1.Count'") == "2")
        // The rule: one of the five type names, or none.
        #expect(throws: SQLiteToolError.self) {
            try database.sqlite("INSERT INTO tags (name, value, type) VALUES ('CP1.Bad', 1, 'integer')")
        }
        try database.sqlite("INSERT INTO tags (name, value, type) VALUES ('CP1.Untyped', 'x', NULL)")
        #expect(try database.sqlite("SELECT type FROM tags WHERE name = 'CP1.Untyped'") == "string")
    }

    /// The bridge's tag upsert builds no temporary index (`OpenEphemeral`), the cost v5 removed: SQLite
    /// builds one for an IN list of three values or more, in the statement or in a trigger it fires.
    @Test func theTagUpsertBuildsNoTemporaryIndex() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        await (try database.open()).close()
        // The upsert's program includes those of the triggers it may fire (`Program`).
        let program = try database.sqlite("EXPLAIN " + TagRows.upsert)
        #expect(program.contains("Program"))
        #expect(!program.contains("OpenEphemeral"))
    }
}
