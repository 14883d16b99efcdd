import Foundation
import OCPP16
import OCPP201
import OCPPRPC

/// The fuzz target over everything a charge point's bytes reach before the bridge acts on them: the JSON
/// parser, the OCPP-J frame parser, and every payload decoder of both versions (docs/security.md).
///
/// Built with `-sanitize=fuzzer -DFUZZING` it is a libFuzzer target (its `main` runs libFuzzer's driver) (`make fuzz`); built normally it is
/// `ocpp-fuzz FILE|DIR...`, which replays a corpus through the same function (`make test` replays
/// Tests/fuzz/corpus). Any crash is a bug: the bridge must answer bad input with a CALLERROR, never trap.
enum OCPPFuzz {
    /// Every validator: the request and response decoder, and the strict outgoing check, of each action of
    /// both versions, in a fixed order so that a corpus file means the same thing in every run.
    static let validators: [@Sendable (JSONValue) throws(PayloadError) -> Void] = {
        var all: [@Sendable (JSONValue) throws(PayloadError) -> Void] = []
        for table in [OCPP16Actions.all, OCPP201Actions.all] {
            for name in table.keys.sorted() {
                guard let descriptor = table[name] else { continue }
                all += [descriptor.validateRequest, descriptor.validateResponse, descriptor.validateOutgoingRequest]
            }
        }
        return all
    }()

    /// One input. The whole input goes through the frame parser and, for a CALL or CALLRESULT, the payload
    /// through the decoders its action names; the first byte also picks one validator for the rest of the input
    /// read as a bare payload, so that every decoder sees inputs of its own shape.
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = bytes.bindMemory(to: UInt8.self)
        if let message = try? RPCMessage(parsing: input) {
            check(roundTrip: message.json)
            if case .call(_, let action, let payload) = message {
                for descriptor in [OCPP16Actions.descriptor(for: action), OCPP201Actions.descriptor(for: action)].compactMap({ $0 }) {
                    try? descriptor.validateRequest(payload)
                    try? descriptor.validateOutgoingRequest(payload)
                }
            }
        }
        guard input.count > 1 else { return }
        let validator = validators[Int(input[0]) % validators.count]
        guard let payload = try? JSONValue(parsing: input[1...]) else { return }
        check(roundTrip: payload)
        try? validator(payload)
    }

    /// What the bridge writes, it must read back as the same value (a number may come back as the other kind of
    /// number: the writer prints an integral double such as `5e5` as `500000`).
    static func check(roundTrip value: JSONValue) {
        guard let again = try? JSONValue(parsing: value.jsonText), same(again, value) else {
            fatalError("JSON round trip changed the value: \(value.jsonText)")
        }
    }

    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        case (.int, .double), (.double, .int), (.double, .double):
            return a.doubleValue == b.doubleValue
        default:
            return a == b
        }
    }
}

#if FUZZING
/// libFuzzer's driver: it runs the fuzzing loop and calls the closure for each input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct OCPPFuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            OCPPFuzz.run(UnsafeRawBufferPointer(start: data, count: size))
            return 0
        })
    }
}
#else
/// `ocpp-fuzz FILE|DIR...`: replays corpus files through the fuzz target; exits 0 unless one crashes.
@main
struct OCPPFuzzReplay {
    static func main() {
        var files: [String] = []
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("ocpp-fuzz: no file or folder at '\(argument)'\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                files += names.sorted().map { "\(argument)/\($0)" }
            } else {
                files.append(argument)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            data.withUnsafeBytes { OCPPFuzz.run($0) }
        }
        print("ocpp-fuzz: \(files.count) inputs replayed through \(OCPPFuzz.validators.count) validators and the frame parser, no crash")
    }
}
#endif
