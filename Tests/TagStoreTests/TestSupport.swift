import Foundation
import Logging
import TagStore

/// A store on a fresh temporary database file, with helpers to inspect the file from outside.
struct TestDatabase {
    let folder: URL
    var path: String { folder.appendingPathComponent("bridge.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("tagstore-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func open(_ configuration: TagStoreConfiguration = .init()) throws -> TagStore {
        try TagStore(path: path, configuration: configuration, logger: Logger(label: "TagStoreTests"))
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Runs SQL through the sqlite3 command-line tool, a separate process, and returns its output.
    @discardableResult
    func sqlite(_ sql: String) throws -> String {
        try TestDatabase.sqlite3(path, sql)
    }

    static func sqlite3(_ path: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-cmd", ".timeout 5000", path, sql]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SQLiteToolError(message: String(decoding: errorData, as: UTF8.self))
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension TestDatabase {
    /// Runs SQL through the sqlite3 tool without blocking a thread of the cooperative pool.
    func sqliteAsync(_ sql: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-cmd", ".timeout 5000", path, sql]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else { throw SQLiteToolError(message: "exit status \(status)") }
    }
}

struct SQLiteToolError: Error, CustomStringConvertible {
    var message: String
    var description: String { "sqlite3 failed: \(message)" }
}

/// Opens a store on a fresh file, runs `body`, then closes the store and removes the file.
func withStore(
    _ configuration: TagStoreConfiguration = .init(),
    _ body: (TagStore, TestDatabase) async throws -> Void
) async throws {
    let database = try TestDatabase()
    defer { database.remove() }
    let store = try database.open(configuration)
    do {
        try await body(store, database)
    } catch {
        await store.close()
        throw error
    }
    await store.close()
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. The deadline is long because
/// it only bounds how long a failing test takes (see `eventually` in the scripting tests).
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return try await condition()
}

/// Collects batches from a change stream until `enough` says so or `timeout` passes.
func collect(
    _ stream: AsyncStream<[TagChange]>, timeout: Duration = .seconds(30),
    until enough: @escaping @Sendable ([TagChange]) -> Bool
) async -> [TagChange] {
    await withTaskGroup(of: [TagChange]?.self) { group in
        group.addTask {
            var all: [TagChange] = []
            for await batch in stream {
                all += batch
                if enough(all) { return all }
            }
            return all
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first ?? []
    }
}
