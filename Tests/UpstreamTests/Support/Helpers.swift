import Foundation
import Logging
import Upstream

/// A logger that stays quiet unless `TEST_LOG_LEVEL` is set.
func testLogger() -> Logger {
    var logger = Logger(label: "upstream-test")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String { "timed out" }
}

/// Runs `body`, failing with `TimedOut` after `limit`.
func withTimeout<T: Sendable>(_ limit: Duration = .seconds(10), _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimedOut() }
        return first
    }
}

/// The next `count` messages of a connection, within a time limit.
func receive(_ count: Int, from connection: UpstreamConnection, within limit: Duration = .seconds(10)) async throws -> [String] {
    let messages = connection.messages
    return try await withTimeout(limit) {
        var received: [String] = []
        for await message in messages {
            received.append(message)
            if received.count == count { break }
        }
        return received
    }
}

/// Connects with test defaults.
func connect(
    _ url: String, subprotocols: [String] = ["ocpp1.6"], basicAuth: (username: String, password: String)? = nil,
    timeout: Duration = .seconds(5), maxMessageSize: Int = 1 << 20, pingInterval: Duration? = nil
) async throws(UpstreamConnectError) -> UpstreamConnection {
    try await UpstreamConnection.connect(
        to: url, subprotocols: subprotocols, basicAuth: basicAuth, connectTimeout: timeout,
        maxMessageSize: maxMessageSize, pingInterval: pingInterval, logger: testLogger())
}

/// The error thrown by `body`, or `nil`.
func connectError(_ body: () async throws(UpstreamConnectError) -> UpstreamConnection) async -> UpstreamConnectError? {
    do {
        let connection = try await body()
        await connection.close()
        return nil
    } catch {
        return error
    }
}
