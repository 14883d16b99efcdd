import Foundation
import Testing

@testable import TagStore

@Suite struct SchemaTests {
    @Test func embeddedSchemaEqualsSchemaFile() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("schema.sql"), encoding: .utf8)
        #expect(Schema.sql == file, "run tools/embed-schema.sh after editing schema.sql")
    }

    @Test func schemaSplitsIntoMigrationsStartingWithV1() throws {
        let migrations = try SchemaMigrations.parse(Schema.sql)
        #expect(migrations.first?.name == "v1")
        #expect(migrations.first?.sql.contains("CREATE TABLE tags") == true)
    }

    @Test func schemaWithoutMarkerIsRejected() {
        #expect(throws: TagStoreError.invalidSchema) {
            try SchemaMigrations.parse("CREATE TABLE t (x);")
        }
    }

    @Test func migrationsApplyAndReopenIsIdempotent() async throws {
        let database = try TestDatabase()
        defer { database.remove() }
        let store = try database.open()
        store.write(TagWrite(name: "CP1.Online", value: true))
        await store.close()

        let reopened = try database.open()
        #expect(reopened.value("CP1.Online") == .bool(true))
        await reopened.close()
        let again = try database.open()
        await again.close()

        #expect(try database.sqlite("SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")
        #expect(try database.sqlite("PRAGMA journal_mode") == "wal")
        let tables = try database.sqlite(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        #expect(
            tables.split(separator: "\n")
                == [
                    "charge_point_registrations", "grdb_migrations", "tag_changes", "tags", "tags_after_insert", "tags_after_update", "transactions",
                    "upstream_queue", "upstream_transactions",
                ])
    }

    @Test(arguments: [
        ("2025-01-31T12:34:56.789Z", 1_738_326_896.789),
        ("1970-01-01T00:00:00.000Z", 0),
        ("2024-02-29T23:59:59.001Z", 1_709_251_199.001),
        ("1969-12-31T23:59:59.999Z", -0.001),
    ])
    func timestampsRoundTrip(text: String, seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Timestamp.format(date) == text)
        let parsed = try #require(Timestamp.parse(text))
        #expect(Timestamp.milliseconds(parsed) == Timestamp.milliseconds(date))
    }

    @Test func timestampParserAcceptsOtherWritersFormats() {
        #expect(Timestamp.parse("2025-01-31 12:34:56").map(Timestamp.format) == "2025-01-31T12:34:56.000Z")
        #expect(Timestamp.parse("2025-01-31T14:34:56.5+02:00").map(Timestamp.format) == "2025-01-31T12:34:56.500Z")
        #expect(Timestamp.parse("2025-01-31T12:34:56.123456Z").map(Timestamp.format) == "2025-01-31T12:34:56.123Z")
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.parse("2025-13-01T00:00:00Z") == nil)
    }
}
