import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OCPPRPC

/// JSON responses and request bodies for the REST API.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        var bytes = body.jsonBytes
        bytes.append(0x0A)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Runs a handler, turning an `APIError` into its response.
    static func handling(_ body: () async throws(APIError) -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            return error.response
        }
    }

    /// An error body: `{"error": {"code": ..., "description": ...}}`.
    static func error(_ status: HTTPResponse.Status, code: String, _ description: String, details: JSONValue? = nil) -> Response {
        var error: [String: JSONValue] = ["code": .string(code), "description": .string(description)]
        if let details { error["details"] = details }
        return make(status, ["error": .object(error)])
    }
}

/// A REST request that cannot be served, with the status and reason to answer.
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var reason: String

    static func badRequest(_ reason: String) -> APIError { APIError(status: .badRequest, code: "BadRequest", reason: reason) }
    static func notFound(_ reason: String) -> APIError { APIError(status: .notFound, code: "NotFound", reason: reason) }

    var response: Response { JSONResponse.error(status, code: code, reason) }
}

extension Request {
    /// The body parsed as JSON (an empty body is `{}`), at most `limit` bytes.
    func jsonBody(limit: Int) async throws(APIError) -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch {
            throw APIError(status: .contentTooLarge, code: "PayloadTooLarge", reason: "the body is larger than \(limit) bytes")
        }
        if buffer.readableBytes == 0 { return .object([:]) }
        do {
            return try JSONValue(parsing: buffer.readableBytesView)
        } catch {
            throw .badRequest("the body is not JSON: \(error.description)")
        }
    }
}

extension BasicRequestContext {
    /// A path parameter, percent-decoded (tag names and charge point ids may hold `|`, spaces, …).
    func decodedParameter(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw HTTPError(.badRequest, message: "'\(raw)' is not validly percent-encoded")
        }
        return decoded
    }
}
