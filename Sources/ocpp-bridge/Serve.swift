import ArgumentParser
import Bridge
import BridgeHTTP
import Foundation
import Logging
import OCPPRPC
import Scripting
import ServiceLifecycle
import TagStore
import UnixSignals

/// `ocpp-bridge serve`: runs everything, on defaults that serve on a fresh machine.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the bridge: the OCPP endpoint, the tag database and the REST API.")

    @Option(help: "The address charge points connect to.") var ocppHost: String?
    @Option(help: "The OCPP port (0 picks a free one).") var ocppPort: Int?
    @Option(help: "The REST API address (keep it on loopback unless it is protected).") var apiHost: String?
    @Option(help: "The REST API port (0 picks a free one).") var apiPort: Int?
    @Option(help: "The SQLite tag database file, created and migrated on start.") var db: String?
    @Option(help: "The folder of tag mapping files.") var mappings: String?
    @Option(help: "An upstream CSMS base URL (ws:// or wss://); repeat for more: the first is the primary.") var upstream: [String] = []
    @Option(help: "The folder of Lua scripts (default: scripts).") var scripts: String?
    @Flag(help: "Run without the script engine.") var noScripts = false
    @Option(help: "A YAML configuration file; flags override it.") var config: String?
    @Option(help: "The log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?

    func run() async throws {
        var settings = Settings()
        if let config {
            do {
                settings = try Settings.load(path: config)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let ocppHost { settings.ocpp.host = ocppHost }
        if let ocppPort { settings.ocpp.port = ocppPort }
        if let apiHost { settings.api.host = apiHost }
        if let apiPort { settings.api.port = apiPort }
        if let db { settings.database = db }
        if let mappings { settings.mappings = mappings }
        if let logLevel { settings.logLevel = logLevel }
        if let scripts {
            settings.scripts.directory = scripts
            settings.scripts.directoryGiven = true
        }
        if noScripts { settings.scripts.enabled = false }
        if !upstream.isEmpty {
            settings.bridge.upstreams = try upstream.enumerated().map { index, url in
                guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else {
                    throw ValidationError("--upstream must be a ws:// or wss:// URL, not '\(url)'")
                }
                return UpstreamConfiguration(name: Settings.defaultUpstreamName(index), url: url)
            }
        }
        if let failover = settings.bridge.failover, !settings.bridge.upstreams.dropFirst().contains(where: { $0.name == failover.to }) {
            throw ValidationError("failover: no secondary upstream named '\(failover.to)'")
        }
        for (action, route) in settings.bridge.routing.routes where route == .forward && settings.bridge.upstreams.isEmpty {
            throw ValidationError("routing: \(action) is routed 'forward' but no upstream is configured")
        }
        let profile = settings.bridge.security.profile
        if profile >= 2, settings.ocpp.tls == nil {
            throw ValidationError("security profile \(profile) needs TLS: set ocpp.tls.certificate and ocpp.tls.key")
        }
        if profile == 3, settings.ocpp.tls?.clientCA == nil {
            throw ValidationError("security profile 3 needs ocpp.tls.clientCA: the CA that signs the charge points' certificates")
        }
        do {
            _ = try settings.ocpp.tls?.serverConfiguration(prefix: "ocpp.tls")
            _ = try settings.api.tls?.serverConfiguration(prefix: "api.tls")
        } catch {
            throw ValidationError("\(error)")
        }
        for (name, port) in [("--ocpp-port", settings.ocpp.port), ("--api-port", settings.api.port)] where !(0...65535).contains(port) {
            throw ValidationError("\(name) must be 0 to 65535, not \(port)")
        }
        guard let level = Logger.Level(rawValue: settings.logLevel) else {
            throw ValidationError("unknown log level '\(settings.logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "ocpp-bridge")
        settings.ocpp.maxConnections = Self.fitConnectionsToFileLimit(settings.ocpp.maxConnections, logger: logger)

        let mapping: TagMapping
        do {
            mapping = try TagMapping.load(directory: settings.mappings)
        } catch {
            throw ValidationError("bad mapping: \(error)")
        }
        if mapping.actions(for: .v16).isEmpty {
            logger.warning("no mapping rules for ocpp1.6 in \(settings.mappings): no tags will be derived from OCPP messages")
        }
        let databaseURL = URL(fileURLWithPath: settings.database)
        try FileManager.default.createDirectory(at: databaseURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        let store = try TagStore(path: settings.database, logger: logger)
        let connector: (any UpstreamConnector)? = settings.bridge.upstreams.isEmpty ? nil : NIOUpstreamConnector(logger: logger)
        let bridge = Bridge(configuration: settings.bridge, store: store, mapping: mapping, connector: connector, logger: logger)
        let scripting = try makeScripting(settings.scripts, bridge: bridge, logger: logger)
        let ocpp = try OCPPEndpoint(bridge: bridge, configuration: settings.ocpp, logger: logger).application { address in
            logger.info("listening ocpp=\(address)")
        }
        let api = try APIServer(bridge: bridge, scripting: scripting, configuration: settings.api, logger: logger).application { address in
            logger.info("listening api=\(address)")
        }
        if !["127.0.0.1", "::1", "localhost"].contains(settings.api.host), settings.api.token == nil {
            logger.warning("the REST API listens on \(settings.api.host) without a token: anyone who reaches it controls the chargers (docs/security.md)")
        }
        logger.info("database \(settings.database), mappings \(settings.mappings)")
        let group = ServiceGroup(
            configuration: .init(
                services: [BridgeService(bridge: bridge, scripting: scripting, logger: logger), ocpp, api],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// Raises the open-file limit to its hard limit (each connection is a file descriptor; the usual soft limit of
    /// 1,024 would refuse charge points long before `maxConnections`), and lowers `maxConnections` to what the
    /// limit allows, keeping 256 descriptors for the database, listeners and scripts.
    static func fitConnectionsToFileLimit(_ maxConnections: Int, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return maxConnections }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = Int(clamping: limit.rlim_cur) - 256
        guard maxConnections > available else { return maxConnections }
        let fitted = max(available, 1)
        logger.notice("the open-file limit is \(limit.rlim_cur): ocpp.maxConnections lowered from \(maxConnections) to \(fitted)")
        return fitted
    }

    /// The script engine, unless disabled; a scripts folder named explicitly must exist.
    func makeScripting(_ settings: Settings.ScriptSettings, bridge: Bridge, logger: Logger) throws -> BridgeScripting? {
        guard settings.enabled else {
            logger.info("script engine disabled")
            return nil
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: settings.directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            if settings.directoryGiven { throw ValidationError("--scripts: no folder at '\(settings.directory)'") }
            logger.info("no scripts folder at '\(settings.directory)': running without scripts")
            return nil
        }
        let configuration = ScriptEngineConfiguration(
            instructionLimit: settings.instructionLimit, memoryLimit: settings.memoryLimit)
        return BridgeScripting(bridge: bridge, directory: settings.directory, configuration: configuration, logger: logger)
    }
}

/// Runs the bridge's background work (the change feed, command tags, the script engine, reload on SIGHUP)
/// and closes sessions and the database on graceful shutdown.
struct BridgeService: Service {
    let bridge: Bridge
    let scripting: BridgeScripting?
    let logger: Logger

    func run() async throws {
        let commands = CommandTags(bridge: bridge, logger: logger)
        commands.start()
        bridge.followRegistrationTags()
        // The engine logs what it loaded and every load error with file and line.
        if let scripting { await scripting.start() }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await bridge.tags.run() }
                if let scripting {
                    group.addTask {
                        for await _ in await UnixSignalsSequence(trapping: .sighup) {
                            let errors = await scripting.reload()
                            logger.info("scripts reloaded on SIGHUP", metadata: ["scripts.errors": .stringConvertible(errors.count)])
                        }
                    }
                }
            }
        }
        logger.info("shutting down: closing sessions and flushing the tag database")
        scripting?.stop()
        await bridge.shutdown()
        await bridge.tags.store.close()
    }
}
