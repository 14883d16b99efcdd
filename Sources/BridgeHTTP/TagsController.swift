import Bridge
import Foundation
import Hummingbird
import OCPPRPC
import TagStore

/// `/api/tags` and `/api/changes`.
struct TagsController {
    let bridge: Bridge
    let maxBodySize: Int

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/tags") { request, _ in
            let prefix = request.uri.queryParameters.get("prefix") ?? ""
            let tags = bridge.tags.store.tags(prefix: prefix)
            return JSONResponse.make(.ok, .array(tags.map(Self.json)))
        }
        router.get("/api/tags/{name}") { _, context in
            let name = try context.decodedParameter("name")
            guard let tag = bridge.tags.tag(name) else {
                return APIError.notFound("no tag named '\(name)'").response
            }
            return JSONResponse.make(.ok, Self.json(tag))
        }
        router.put("/api/tags/{name}") { request, context in
            let name = try context.decodedParameter("name")
            return await JSONResponse.handling { () async throws(APIError) in try await put(name: name, request: request) }
        }
        router.get("/api/changes") { request, _ in
            do {
                return try await changes(request)
            } catch let error as APIError {
                return error.response
            }
        }
    }

    private func put(name: String, request: Request) async throws(APIError) -> Response {
        guard !name.isEmpty, name.count <= 512 else { throw .badRequest("a tag name has 1 to 512 characters") }
        let body = try await request.jsonBody(limit: maxBodySize)
        guard case .object(let members) = body, let value = members["value"] else {
            throw .badRequest("the body must be an object with a \"value\" member")
        }
        switch value {
        case .array, .object: throw .badRequest("a tag value is a boolean, a number, a string or null")
        default: break
        }
        if let existing = bridge.tags.tag(name), existing.access == .readOnly {
            throw APIError(
                status: .forbidden, code: "ReadOnly",
                reason: "'\(name)' is derived from OCPP messages by the bridge and is read-only")
        }
        bridge.tags.write([TagWrite(name: name, value: TagValue(json: value), access: .readWrite)])
        guard let tag = bridge.tags.tag(name) else { throw APIError(status: .internalServerError, code: "InternalError", reason: "write lost") }
        return JSONResponse.make(.ok, Self.json(tag))
    }

    private func changes(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var since: Int64 = 0
        if let text = query.get("since") {
            guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("since must be a whole number ≥ 0") }
            since = value
        }
        var wait = 0.0
        if let text = query.get("wait") {
            guard let value = Double(text), value >= 0, value.isFinite else {
                throw APIError.badRequest("wait must be a number of seconds ≥ 0")
            }
            wait = min(value, 30)
        }
        let changes: [TagChange]
        if wait > 0 {
            changes = try await bridge.tags.store.waitForChanges(since: since, timeout: .milliseconds(Int64(wait * 1000)))
        } else {
            changes = try await bridge.tags.store.changes(since: since)
        }
        let next = changes.last?.seq ?? max(since, 0)
        let body: JSONValue = [
            "changes": .array(changes.map { change in
                [
                    "seq": .int(change.seq), "name": .string(change.name), "value": change.value.json,
                    "quality": .string(change.quality.rawValue), "updatedAt": .string(OCPPDateTime.format(change.updatedAt)),
                ]
            }),
            "next": .int(next),
        ]
        return JSONResponse.make(.ok, body)
    }

    static func json(_ tag: Tag) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(tag.name), "value": tag.value.json, "quality": .string(tag.quality.rawValue),
            "updatedAt": .string(OCPPDateTime.format(tag.updatedAt)), "writable": .bool(tag.access == .readWrite),
        ]
        if let unit = tag.unit { object["unit"] = .string(unit) }
        return .object(object)
    }
}
