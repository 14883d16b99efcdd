import Bridge
import BridgeHTTP
import Foundation
import OCPPRPC
import Yams

/// Everything `serve` needs, from defaults, the `--config` YAML file, then the flags.
struct Settings {
    var ocpp = OCPPEndpoint.Configuration()
    var api = APIServer.Configuration()
    var bridge = BridgeConfiguration()
    var database = "data/bridge.sqlite"
    var mappings = "mappings"
    var logLevel = "info"
    var scripts = ScriptSettings()

    /// The script engine's settings (`scripts:` in the file).
    struct ScriptSettings {
        var directory = "scripts"
        /// Whether the directory was named explicitly (a missing one is then an error, not a notice).
        var directoryGiven = false
        var enabled = true
        var instructionLimit = 10_000_000
        var memoryLimit = 64 << 20
    }

    /// The name of the upstream at `index` when none is given: the first is the primary.
    static func defaultUpstreamName(_ index: Int) -> String {
        index == 0 ? "primary" : "secondary\(index)"
    }

    /// A configuration file that cannot be used: the file, the line and the reason.
    struct LoadError: Error, CustomStringConvertible {
        var file: String
        var line: Int
        var reason: String
        var description: String { "\(file):\(line): \(reason)" }
    }

    /// Reads a YAML configuration file (docs/configuration.md lists every key).
    static func load(path: String) throws(LoadError) -> Settings {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(file: path, line: 0, reason: "cannot read: \(error.localizedDescription)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw LoadError(file: path, line: 0, reason: "not valid YAML: \(error)")
        }
        var settings = Settings()
        guard let root else { return settings }
        let reader = Reader(file: path)
        try reader.members(root, allowed: [
            "ocpp", "api", "database", "mappings", "logLevel", "heartbeatInterval", "decisionTimeout",
            "decisionDefaults", "callTimeout", "fallbackProtocol", "routing", "scripts", "upstreams", "replayInterval",
            "failover", "protocols", "treatOcpp20As201", "security",
        ]) { key, node throws(LoadError) in
            switch key {
            case "ocpp":
                try reader.members(node, allowed: [
                    "host", "port", "pingInterval", "maxMessageSize", "maxConnections", "handshakeTimeout", "idleTimeout",
                    "maxPendingCalls", "maxQueuedCalls", "messagesPerSecond", "burst", "tls",
                ]) { key, node throws(LoadError) in
                    switch key {
                    case "tls": settings.ocpp.tls = try reader.tls(node, clientCA: true)
                    case "host": settings.ocpp.host = try reader.string(node)
                    case "port": settings.ocpp.port = try reader.int(node, in: 0...65535)
                    case "pingInterval": settings.ocpp.pingInterval = .seconds(try reader.int(node, in: 1...86400))
                    case "maxConnections": settings.ocpp.maxConnections = try reader.int(node, in: 1...1_000_000)
                    case "handshakeTimeout": settings.ocpp.handshakeTimeout = .milliseconds(try reader.milliseconds(node))
                    case "idleTimeout": settings.ocpp.idleTimeout = .milliseconds(Int64(try reader.number(node, in: 0...604_800) * 1000))
                    case "maxPendingCalls": settings.bridge.sessionLimits.maxPendingCalls = try reader.int(node, in: 1...10_000)
                    case "maxQueuedCalls": settings.bridge.sessionLimits.maxQueuedCalls = try reader.int(node, in: 1...100_000)
                    case "messagesPerSecond":
                        settings.bridge.sessionLimits.messagesPerSecond = try reader.number(node, in: 0.01...1_000_000)
                    case "burst": settings.bridge.sessionLimits.burst = try reader.int(node, in: 1...1_000_000)
                    default: settings.ocpp.maxMessageSize = try reader.int(node, in: 1024...(64 << 20))
                    }
                }
            case "api":
                try reader.members(node, allowed: ["host", "port", "maxBodySize", "tls", "token"]) { key, node throws(LoadError) in
                    switch key {
                    case "tls": settings.api.tls = try reader.tls(node, clientCA: false)
                    case "token":
                        let token = try reader.string(node)
                        guard token.count >= 16 else { throw reader.error(node, "the API token needs at least 16 characters") }
                        settings.api.token = token
                    case "host": settings.api.host = try reader.string(node)
                    case "port": settings.api.port = try reader.int(node, in: 0...65535)
                    default: settings.api.maxBodySize = try reader.int(node, in: 1024...(64 << 20))
                    }
                }
            case "scripts":
                try reader.members(node, allowed: ["directory", "enabled", "instructionLimit", "memoryLimit"]) { key, node throws(LoadError) in
                    switch key {
                    case "directory":
                        settings.scripts.directory = try reader.string(node)
                        settings.scripts.directoryGiven = true
                    case "enabled": settings.scripts.enabled = try reader.bool(node)
                    case "instructionLimit": settings.scripts.instructionLimit = try reader.int(node, in: 10_000...1_000_000_000)
                    default: settings.scripts.memoryLimit = try reader.int(node, in: (1 << 20)...(4 << 30))
                    }
                }
            case "upstreams":
                guard let items = node.sequence else { throw reader.error(node, "expected a list of upstreams") }
                for item in items {
                    var upstream = UpstreamConfiguration(name: "", url: "")
                    try reader.members(item, allowed: ["name", "url", "password", "chargePoints", "allow"]) { key, node throws(LoadError) in
                        switch key {
                        case "name": upstream.name = try reader.string(node)
                        case "url": upstream.url = try reader.string(node)
                        case "password": upstream.password = try reader.string(node)
                        case "chargePoints": upstream.chargePoints = try reader.strings(node)
                        default: upstream.allowedActions = Set(try reader.strings(node))
                        }
                    }
                    guard upstream.url.hasPrefix("ws://") || upstream.url.hasPrefix("wss://") else {
                        throw reader.error(item, "an upstream needs a url starting with ws:// or wss://")
                    }
                    if upstream.name.isEmpty { upstream.name = Settings.defaultUpstreamName(settings.bridge.upstreams.count) }
                    settings.bridge.upstreams.append(upstream)
                }
            case "replayInterval": settings.bridge.replayInterval = .milliseconds(try reader.milliseconds(node))
            case "failover":
                var failover = Failover(to: "")
                try reader.members(node, allowed: ["to", "after", "failback"]) { key, node throws(LoadError) in
                    switch key {
                    case "to": failover.to = try reader.string(node)
                    case "after": failover.after = .milliseconds(try reader.milliseconds(node))
                    default: failover.failback = try reader.bool(node)
                    }
                }
                guard !failover.to.isEmpty else { throw reader.error(node, "failover needs 'to': the name of a secondary upstream") }
                settings.bridge.failover = failover
            case "database": settings.database = try reader.string(node)
            case "mappings": settings.mappings = try reader.string(node)
            case "logLevel": settings.logLevel = try reader.string(node)
            case "heartbeatInterval": settings.bridge.heartbeatInterval = try reader.int(node, in: 1...86400)
            case "decisionTimeout": settings.bridge.decisionTimeout = .milliseconds(try reader.milliseconds(node))
            case "callTimeout": settings.bridge.callTimeout = .milliseconds(try reader.milliseconds(node))
            case "fallbackProtocol":
                let text = try reader.string(node)
                guard let version = OCPPVersion(rawValue: text) else {
                    throw reader.error(node, "unknown protocol '\(text)' (expected ocpp1.6 or ocpp2.0.1)")
                }
                settings.bridge.fallbackProtocol = version
            case "protocols":
                var versions: [OCPPVersion] = []
                for text in try reader.strings(node) {
                    guard let version = OCPPVersion(rawValue: text) else {
                        throw reader.error(node, "unknown protocol '\(text)' (expected ocpp1.6 or ocpp2.0.1)")
                    }
                    guard !versions.contains(version) else { throw reader.error(node, "\(text) is listed twice") }
                    versions.append(version)
                }
                guard !versions.isEmpty else { throw reader.error(node, "protocols needs at least one protocol") }
                settings.bridge.protocols = versions
            case "treatOcpp20As201": settings.bridge.treatOcpp20As201 = try reader.bool(node)
            case "security":
                try reader.members(node, allowed: ["profile", "unknownChargePoints", "pendingInterval"]) { key, node throws(LoadError) in
                    switch key {
                    case "profile": settings.bridge.security.profile = try reader.int(node, in: 0...3)
                    case "unknownChargePoints":
                        let text = try reader.string(node)
                        guard let policy = UnknownChargePointPolicy(rawValue: text) else {
                            throw reader.error(node, "unknown policy '\(text)' (expected accept, pending or reject)")
                        }
                        settings.bridge.security.unknownChargePoints = policy
                    default: settings.bridge.security.pendingInterval = try reader.int(node, in: 1...86400)
                    }
                }
            case "decisionDefaults":
                try reader.members(node, allowed: ["Authorize", "StartTransaction", "StopTransaction", "DataTransfer"]) { key, node throws(LoadError) in
                    let value = try reader.string(node)
                    switch key {
                    case "Authorize": settings.bridge.decisionDefaults.authorize = value
                    case "StartTransaction": settings.bridge.decisionDefaults.startTransaction = value
                    case "StopTransaction": settings.bridge.decisionDefaults.stopTransaction = value
                    default: settings.bridge.decisionDefaults.dataTransfer = value
                    }
                }
            default:  // routing
                try reader.members(node, allowed: nil) { action, node throws(LoadError) in
                    let text = try reader.string(node)
                    guard let route = Route(rawValue: text) else {
                        throw reader.error(node, "unknown route '\(text)' for \(action) (expected local, tags or forward)")
                    }
                    settings.bridge.routing.routes[action] = route
                }
            }
        }
        return settings
    }

    /// Reads YAML nodes, turning every mistake into a `LoadError` with the node's line.
    struct Reader {
        var file: String

        func error(_ node: Node, _ reason: String) -> LoadError {
            LoadError(file: file, line: node.mark?.line ?? 0, reason: reason)
        }

        func members(_ node: Node, allowed: Set<String>?, _ body: (String, Node) throws(LoadError) -> Void) throws(LoadError) {
            guard let mapping = node.mapping else { throw error(node, "expected a mapping of keys to values") }
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else { throw error(keyNode, "a key must be text") }
                if let allowed, !allowed.contains(key) {
                    throw error(keyNode, "unknown key '\(key)' (expected one of \(allowed.sorted().joined(separator: ", ")))")
                }
                try body(key, value)
            }
        }

        func string(_ node: Node) throws(LoadError) -> String {
            guard let scalar = node.scalar else { throw error(node, "expected a single value") }
            return scalar.string
        }

        func int(_ node: Node, in range: ClosedRange<Int>) throws(LoadError) -> Int {
            guard let value = Int(try string(node)), range.contains(value) else {
                throw error(node, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func strings(_ node: Node) throws(LoadError) -> [String] {
            if node.scalar != nil { return [try string(node)] }
            guard let items = node.sequence else { throw error(node, "expected a list") }
            var result: [String] = []
            for item in items { result.append(try string(item)) }
            return result
        }

        func bool(_ node: Node) throws(LoadError) -> Bool {
            switch try string(node).lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw error(node, "expected true or false")
            }
        }

        /// A duration in seconds (decimals allowed), as milliseconds.
        /// `tls: {certificate: PEM, key: PEM, clientCA: PEM}`; relative paths are relative to the working folder.
        func tls(_ node: Node, clientCA allowsClientCA: Bool) throws(LoadError) -> TLSFiles {
            var files = TLSFiles(certificate: "", key: "")
            try members(node, allowed: allowsClientCA ? ["certificate", "key", "clientCA"] : ["certificate", "key"]) { key, node throws(LoadError) in
                switch key {
                case "certificate": files.certificate = try string(node)
                case "key": files.key = try string(node)
                default: files.clientCA = try string(node)
                }
            }
            guard !files.certificate.isEmpty, !files.key.isEmpty else { throw error(node, "tls needs certificate and key (PEM files)") }
            return files
        }

        func number(_ node: Node, in range: ClosedRange<Double>) throws(LoadError) -> Double {
            guard let value = Double(try string(node)), range.contains(value) else {
                throw error(node, "expected a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func milliseconds(_ node: Node) throws(LoadError) -> Int64 {
            guard let seconds = Double(try string(node)), seconds > 0, seconds <= 3600 else {
                throw error(node, "expected a number of seconds, more than 0 and at most 3600")
            }
            return Int64(seconds * 1000)
        }
    }
}
