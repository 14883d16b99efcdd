import Bridge
import Foundation
import Hummingbird
import OCPPRPC

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
            }
        }
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
