import Bridge
import Foundation
import Hummingbird
import OCPPRPC
import TagStore

/// `/api/chargepoints` and the CSMS-initiated calls.
struct ChargePointsController {
    let bridge: Bridge
    let maxBodySize: Int

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/chargepoints") { _, _ in
            JSONResponse.make(.ok, .array(bridge.registry.all.map(Self.json)))
        }
        router.get("/api/chargepoints/{id}") { _, context in
            let id = try context.decodedParameter("id")
            guard let info = bridge.registry.info(id) else {
                return APIError.notFound("charge point '\(id)' was never seen").response
            }
            return JSONResponse.make(.ok, Self.json(info))
        }
        router.get("/api/chargepoints/{id}/registration") { _, context in
            let id = try context.decodedParameter("id")
            return await JSONResponse.handling { () async throws(APIError) in
                guard let registration = try readRegistration(id) else { throw .notFound("charge point '\(id)' has no registration") }
                return JSONResponse.make(.ok, Self.json(registration))
            }
        }
        router.put("/api/chargepoints/{id}/registration") { request, context in
            let id = try context.decodedParameter("id")
            return await JSONResponse.handling { () async throws(APIError) in
                try await updateRegistration(id: id, request: request)
            }
        }
        router.delete("/api/chargepoints/{id}/registration") { _, context in
            let id = try context.decodedParameter("id")
            return await JSONResponse.handling { () async throws(APIError) in
                let removed: Bool
                do {
                    removed = try await bridge.removeRegistration(id)
                } catch {
                    throw APIError(status: .serviceUnavailable, code: "StorageError", reason: "\(error)")
                }
                guard removed else { throw .notFound("charge point '\(id)' has no registration") }
                return Response(status: .noContent)
            }
        }
        router.post("/api/chargepoints/{id}/calls/{action}") { request, context in
            let id = try context.decodedParameter("id")
            let action = try context.decodedParameter("action")
            return await JSONResponse.handling { () async throws(APIError) in
                try await call(id: id, action: action, request: request)
            }
        }
    }

    private func call(id: String, action: String, request: Request) async throws(APIError) -> Response {
        let payload = try await request.jsonBody(limit: maxBodySize)
        guard case .object = payload else { throw .badRequest("the body must be the request payload, a JSON object") }
        guard bridge.registry.info(id) != nil else { throw .notFound("charge point '\(id)' was never seen") }
        switch await bridge.call(chargePoint: id, action: action, payload: payload) {
        case .success(let result):
            return JSONResponse.make(.ok, ["result": result])
        case .failure(let failure):
            switch failure.kind {
            case .callError:
                return JSONResponse.error(
                    .badGateway, code: failure.code?.rawValue ?? "GenericError", failure.reason, details: failure.details)
            case .timeout:
                return JSONResponse.error(.gatewayTimeout, code: "Timeout", failure.reason)
            case .offline, .disconnected:
                return JSONResponse.error(.notFound, code: "Offline", failure.reason)
            case .invalidRequest:
                return JSONResponse.error(.badRequest, code: failure.code?.rawValue ?? "BadRequest", failure.reason)
            case .unknownAction:
                return JSONResponse.error(.badRequest, code: "UnknownAction", failure.reason)
            case .busy:
                return JSONResponse.error(.tooManyRequests, code: "Busy", failure.reason)
            }
        }
    }

    private func readRegistration(_ id: String) throws(APIError) -> Registration? {
        do {
            return try bridge.admission.registration(of: id)
        } catch {
            throw APIError(status: .serviceUnavailable, code: "StorageError", reason: "\(error)")
        }
    }

    /// `{"status": "Accepted" | "Pending" | "Rejected", "password": "16 to 40 characters" | null}`, every member
    /// optional: `password: null` removes the password.
    private func updateRegistration(id: String, request: Request) async throws(APIError) -> Response {
        let body = try await request.jsonBody(limit: maxBodySize)
        guard case .object(let members) = body else { throw .badRequest("the body must be a JSON object") }
        if let unknown = members.keys.first(where: { !["status", "password"].contains($0) }) {
            throw .badRequest("unknown member '\(unknown)' (expected status, password)")
        }
        var status: Registration.Status?
        if let value = members["status"] {
            guard let text = value.stringValue, let parsed = Registration.Status(rawValue: text) else {
                throw .badRequest("status must be Accepted, Pending or Rejected")
            }
            status = parsed
        }
        var password: String?
        if let value = members["password"], value != .null {
            guard let text = value.stringValue, PasswordHash.allowedLengths.contains(text.utf8.count) else {
                throw .badRequest("password must be a string of 16 to 40 characters, as OCPP requires")
            }
            password = text
        }
        do {
            let registration = try await bridge.updateRegistration(
                id, status: status, password: password, clearPassword: members["password"] == .null)
            return JSONResponse.make(.ok, Self.json(registration))
        } catch {
            throw APIError(status: .serviceUnavailable, code: "StorageError", reason: "\(error)")
        }
    }

    static func json(_ registration: Registration) -> JSONValue {
        [
            "id": .string(registration.chargePoint), "status": .string(registration.status.rawValue),
            "hasPassword": .bool(registration.hasPassword), "updatedAt": .string(OCPPDateTime.format(registration.updatedAt)),
        ]
    }

    static func json(_ info: ChargePointInfo) -> JSONValue {
        [
            "id": .string(info.id), "online": .bool(info.online),
            "protocol": info.version.map { .string($0.rawValue) } ?? .null,
            "connectedSince": info.connectedSince.map { .string(OCPPDateTime.format($0)) } ?? .null,
            "lastSeen": info.lastSeen.map { .string(OCPPDateTime.format($0)) } ?? .null,
        ]
    }
}
