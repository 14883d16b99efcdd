import Bridge
import BridgeHTTP
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import TagStore
import Testing

/// A real bridge on port 0 (both listeners), a temporary SQLite file and the repository's mappings.
struct LiveBridge {
    let bridge: Bridge
    let ocppPort: Int
    let apiPort: Int
    let databasePath: String

    var ocppURL: String { "ws://127.0.0.1:\(ocppPort)/ocpp" }

    /// The repository's root folder, found from this file.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Starts a bridge, runs `body`, then shuts the bridge down gracefully.
    static func run(
        configure: (inout BridgeConfiguration) -> Void = { _ in },
        ocppConfigure: (inout OCPPEndpoint.Configuration) -> Void = { _ in },
        _ body: (LiveBridge) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ocpp-bridge-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = directory.appendingPathComponent("bridge.sqlite").path
        var configuration = BridgeConfiguration()
        configure(&configuration)
        let store = try TagStore(path: databasePath, logger: logger)
        let mapping = try TagMapping.load(directory: repositoryRoot.appendingPathComponent("mappings").path)
        let bridge = Bridge(configuration: configuration, store: store, mapping: mapping, logger: logger)

        var ocppConfiguration = OCPPEndpoint.Configuration()
        ocppConfiguration.host = "127.0.0.1"
        ocppConfiguration.port = 0
        ocppConfigure(&ocppConfiguration)
        var apiConfiguration = APIServer.Configuration()
        apiConfiguration.port = 0
        let (addresses, continuation) = AsyncStream<(String, Int)>.makeStream()
        let ocpp = try OCPPEndpoint(bridge: bridge, configuration: ocppConfiguration, logger: logger).application { address in
            continuation.yield(("ocpp", Int(address.split(separator: ":").last ?? "") ?? 0))
        }
        let api = try APIServer(bridge: bridge, configuration: apiConfiguration, logger: logger).application { address in
            continuation.yield(("api", Int(address.split(separator: ":").last ?? "") ?? 0))
        }
        let commands = CommandTags(bridge: bridge, logger: logger)
        commands.start()
        bridge.followRegistrationTags()
        let group = ServiceGroup(configuration: .init(services: [ocpp, api], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { await bridge.tags.run() }
            var ports: [String: Int] = [:]
            for await (name, port) in addresses {
                ports[name] = port
                if ports.count == 2 { break }
            }
            let live = LiveBridge(bridge: bridge, ocppPort: ports["ocpp"]!, apiPort: ports["api"]!, databasePath: databasePath)
            do {
                try await body(live)
            } catch {
                await bridge.shutdown()
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
            await bridge.shutdown()
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
        }
        await store.close()
    }
}
