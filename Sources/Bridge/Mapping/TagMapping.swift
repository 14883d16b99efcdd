import Foundation
import OCPPRPC

/// The data-driven mapping from OCPP messages to tags, compiled from the YAML files in `mappings/`.
///
/// Load it once at start; `tags(for:version:context:)` then only evaluates compiled rules.
/// See `docs/mappings.md` for the file format.
public struct TagMapping: Sendable, Equatable {
    /// The compiled rules by protocol version and action, in file order.
    private var rules: [OCPPVersion: [String: [MappingRule]]] = [:]

    /// An empty mapping, which produces no tags.
    public init() {}

    /// Compiles one mapping file's YAML text.
    /// - Parameters:
    ///   - yaml: the file's content.
    ///   - file: the name used in error messages.
    public init(yaml: String, file: String = "<mapping>") throws(MappingError) {
        try add(yaml: yaml, file: file)
    }

    /// Loads every `*.yaml` and `*.yml` file of `directory`, in name order; later files add rules.
    public static func load(directory: String) throws(MappingError) -> TagMapping {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MappingError(file: directory, line: 0, column: 0, reason: "cannot read the mappings directory")
        }
        let prefix = directory.isEmpty || directory.hasSuffix("/") ? directory : directory + "/"
        var mapping = TagMapping()
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = prefix + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MappingError(file: path, line: 0, column: 0, reason: "cannot read the file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw MappingError(file: path, line: 0, column: 0, reason: "the file is not UTF-8 text")
            }
            try mapping.add(yaml: text, file: path)
        }
        return mapping
    }

    /// Compiles one more mapping file's YAML text and appends its rules after the existing ones.
    public mutating func add(yaml: String, file: String) throws(MappingError) {
        let parsed = try MappingFileParser(file: file).parse(yaml)
        for version in parsed.versions {
            for (action, rule) in parsed.rules { rules[version, default: [:]][action, default: []].append(rule) }
        }
    }

    /// The actions that have at least one rule for `version`.
    public func actions(for version: OCPPVersion) -> Set<String> {
        rules[version].map { Set($0.keys) } ?? []
    }

    /// The tags one message produces, in rule order (a later rule's tag of the same name wins when stored).
    /// - Parameters:
    ///   - action: the CALL's action, e.g. `MeterValues`.
    ///   - version: the charge point's protocol version.
    ///   - context: the charge point, the time, the request, the response and bridge-computed extras.
    public func tags(for action: String, version: OCPPVersion, context: MappingContext) -> [MappedTag] {
        guard let actionRules = rules[version]?[action] else { return [] }
        var tags: [MappedTag] = []
        for rule in actionRules { rule.apply(to: context, into: &tags) }
        return tags
    }
}
