import Foundation
import GRDB

/// The migrations of `schema.sql`, applied with GRDB's `DatabaseMigrator`.
package enum SchemaMigrations {
    /// The line prefix that starts a migration in `schema.sql`.
    static let marker = "-- migration:"

    /// Splits a schema text into named migrations, in file order; text before the first marker is ignored.
    package static func parse(_ schema: String) throws -> [(name: String, sql: String)] {
        var migrations: [(name: String, sql: String)] = []
        var names = Set<String>()
        for line in schema.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(marker) {
                let name = trimmed.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else { throw TagStoreError.invalidSchema("a migration line has no name") }
                guard names.insert(name).inserted else {
                    throw TagStoreError.invalidSchema("migration \(name) appears twice")
                }
                migrations.append((name, ""))
            } else if !migrations.isEmpty {
                migrations[migrations.count - 1].sql += line + "\n"
            }
        }
        guard !migrations.isEmpty else { throw TagStoreError.invalidSchema("no '\(marker)' line") }
        return migrations
    }

    /// A migrator that registers every migration of the embedded schema.
    package static func migrator(schema: String = Schema.sql) throws -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in try parse(schema) {
            let sql = migration.sql
            migrator.registerMigration(migration.name) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }

    /// Applies the migrations not yet applied to the database; applying them again is a no-op.
    static func apply(to writer: some DatabaseWriter) throws {
        let migrations = try parse(Schema.sql)
        let migrator = try migrator()
        // All at once: `migrate(_:upTo:)` stops the process when the database is already past its
        // target. Each migration commits on its own, so the first one not applied is the one that failed.
        do {
            try migrator.migrate(writer)
        } catch {
            let applied = (try? writer.read { db in try migrator.appliedIdentifiers(db) }) ?? []
            let failed = migrations.first { !applied.contains($0.name) }?.name ?? migrations[migrations.count - 1].name
            throw TagStoreError.migrationFailed(failed, underlying: error)
        }
    }
}
