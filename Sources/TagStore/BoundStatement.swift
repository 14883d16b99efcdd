import GRDB
import GRDBSQLite

/// One of ``TagRows``' cached write statements, run with its values bound straight through SQLite (with
/// GRDB's public `StatementBinding`) instead of through `StatementArguments`, which validates the arguments
/// and copies every value into an array first: 17% of the tag writer thread's samples
/// (docs/performance.md). Only `TagRows` runs these SQL texts, and only this way, so the GRDB argument
/// state of the cached statement is never used.
struct BoundStatement {
    let statement: Statement

    /// The cached statement for `sql`, reset, with no values bound.
    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        sqlite3_reset(statement.sqliteStatement)
        sqlite3_clear_bindings(statement.sqliteStatement)
    }

    /// Binds `value` to the 1-based parameter `index`.
    func bind(_ value: some StatementBinding, at index: Int32) throws {
        let code = value.bind(to: statement.sqliteStatement, at: index)
        guard code == SQLITE_OK else { throw error(code) }
    }

    /// Steps the statement to its end, then resets it and clears its values.
    func run() throws {
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return
            case SQLITE_ROW: continue
            case let code: throw error(code)
            }
        }
    }

    /// Steps the statement once and returns what `read` makes of the first row (nil: no row), then resets it
    /// and clears its values.
    func firstRow<Value>(_ read: (SQLiteStatement) -> Value) throws -> Value? {
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return read(handle)
        case SQLITE_DONE: return nil
        case let code: throw error(code)
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement))), sql: statement.sql)
    }
}
