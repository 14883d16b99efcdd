import Foundation
import OCPPRPC

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A tiny REST client for the live API.
struct HTTP {
    let base: String

    init(port: Int) { base = "http://127.0.0.1:\(port)" }

    struct Reply {
        var status: Int
        var body: JSONValue
    }

    func request(_ method: String, _ path: String, body: JSONValue? = nil, timeout: TimeInterval = 30) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let body {
            request.httpBody = Data(body.jsonBytes)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = data.isEmpty ? JSONValue.null : ((try? JSONValue(parsing: [UInt8](data))) ?? .string(String(decoding: data, as: UTF8.self)))
        return Reply(status: status, body: json)
    }

    func get(_ path: String) async throws -> Reply { try await request("GET", path) }
    func put(_ path: String, _ body: JSONValue) async throws -> Reply { try await request("PUT", path, body: body) }
    func post(_ path: String, _ body: JSONValue) async throws -> Reply { try await request("POST", path, body: body) }

    /// The value of a tag, or nil if it does not exist.
    func tag(_ name: String) async throws -> JSONValue? {
        let reply = try await get("/api/tags/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name)")
        return reply.status == 200 ? reply.body["value"] : nil
    }

    /// Polls a tag until `predicate` holds (at most `timeout`).
    func waitForTag(_ name: String, timeout: Duration = .seconds(30), _ predicate: (JSONValue?) -> Bool) async throws -> JSONValue? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let value = try await tag(name)
            if predicate(value) || clock.now > deadline { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
