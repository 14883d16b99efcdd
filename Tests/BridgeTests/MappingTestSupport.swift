import Bridge
import Foundation
import OCPPRPC

/// Helpers shared by the mapping tests.
enum MappingTestSupport {
    /// The repository's root folder, found from this file's place in `Tests/BridgeTests/`.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The repository's `mappings/` folder.
    static let mappingsDirectory = repoRoot + "/mappings"

    /// A fixed clock: 2025-03-01T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_740_830_400)

    /// Parses a JSON payload written in a test.
    static func json(_ text: String) -> JSONValue {
        (try? JSONValue(parsing: text)) ?? .null
    }

    /// A context for charge point `CP1` at `now`.
    static func context(
        _ request: String, response: String? = nil, extra: [String: JSONValue] = [:]
    ) -> MappingContext {
        MappingContext(
            chargePointId: "CP1", now: now, request: json(request), response: response.map(json), extra: extra)
    }

    /// Writes files into a fresh temporary directory and returns its path.
    static func temporaryDirectory(files: [String: String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    /// The error `load(directory:)` reports for one file with the given text, its file relative to the directory.
    static func loadError(_ yaml: String, name: String = "broken.yaml") throws -> MappingError? {
        let dir = try temporaryDirectory(files: [name: yaml])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try TagMapping.load(directory: dir)
            return nil
        } catch {
            var relative = error
            relative.file = String(error.file.dropFirst(dir.count + 1))
            return relative
        }
    }
}
