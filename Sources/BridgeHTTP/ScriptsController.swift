import Hummingbird
import OCPPRPC
import Scripting

/// `/api/scripts`: what is loaded, and reloading without a restart.
struct ScriptsController {
    let scripting: BridgeScripting?

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/scripts") { _, _ in
            guard let scripting else { return Self.disabled }
            return JSONResponse.make(.ok, Self.status(scripting, errors: scripting.loadErrors))
        }
        router.post("/api/scripts/reload") { _, _ in
            guard let scripting else { return Self.disabled }
            let errors = await scripting.reload()
            return JSONResponse.make(.ok, Self.status(scripting, errors: errors))
        }
    }

    static var disabled: Response {
        JSONResponse.error(.notFound, code: "ScriptsDisabled", "the script engine is not running (--no-scripts, or no scripts folder)")
    }

    static func status(_ scripting: BridgeScripting, errors: [ScriptLoadError]) -> JSONValue {
        [
            "loaded": .array(scripting.engine.loadedScripts.map { .string($0) }),
            "errors": .array(errors.map { error in
                ["file": .string(error.file), "line": error.line.map { .int(Int64($0)) } ?? .null, "message": .string(error.message)]
            }),
            "errorCount": .int(Int64(scripting.errorCount)),
        ]
    }
}
