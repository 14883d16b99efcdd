import Foundation
import Logging
import OCPPRPC
import Synchronization
import TagStore

/// Commands through tags (ARCHITECTURE.md): a SCADA client or a script writes the request tags and increments
/// `{cp}.TriggerMessage.Request` or `{cp}.Command.Request`; the bridge sends the CALL and writes the answer,
/// then copies the request number into `.Response`.
public final class CommandTags: Sendable {
    let bridge: Bridge
    let logger: Logger
    /// The last request number acted on, per `{cp}.{Kind}`, so that a change seen twice runs once.
    private let handled = Mutex<[String: Int64]>([:])

    public init(bridge: Bridge, logger: Logger) {
        self.bridge = bridge
        self.logger = logger
    }

    /// Starts following tag changes.
    public func start() {
        bridge.tags.observe { [weak self] names in
            guard let self else { return }
            for name in names where name.hasSuffix(".TriggerMessage.Request") || name.hasSuffix(".Command.Request") {
                self.requestChanged(name)
            }
        }
    }

    /// The command tags a connected charge point gets, writable, so that an HMI can find them.
    public static func initialTags(chargePoint cp: String) -> [TagWrite] {
        [
            TagWrite(name: "\(cp).TriggerMessage.RequestedMessage", value: .string(""), access: .readWrite),
            TagWrite(name: "\(cp).TriggerMessage.ConnectorId", value: .null, access: .readWrite),
            TagWrite(name: "\(cp).TriggerMessage.Request", value: .int(0), access: .readWrite),
            TagWrite(name: "\(cp).Command.Action", value: .string(""), access: .readWrite),
            TagWrite(name: "\(cp).Command.Payload", value: .string("{}"), access: .readWrite),
            TagWrite(name: "\(cp).Command.Request", value: .int(0), access: .readWrite),
        ]
    }

    private func requestChanged(_ requestTag: String) {
        let prefix = String(requestTag.dropLast(".Request".count))
        let tags = bridge.tags
        guard let number = tags.value(requestTag)?.integerValue, number > 0 else { return }
        if tags.value("\(prefix).Response")?.integerValue == number { return }
        let isNew = handled.withLock { handled -> Bool in
            if let last = handled[prefix], last >= number { return false }
            handled[prefix] = number
            return true
        }
        guard isNew else { return }
        Task { await self.run(prefix: prefix, number: number) }
    }

    private func run(prefix: String, number: Int64) async {
        let tags = bridge.tags
        let isTrigger = prefix.hasSuffix(".TriggerMessage")
        let cp = String(prefix.dropLast(isTrigger ? ".TriggerMessage".count : ".Command".count))
        var writes: [TagWrite] = []
        if isTrigger {
            var payload: [String: JSONValue] = [
                "requestedMessage": .string(tags.value("\(prefix).RequestedMessage")?.textValue ?? "")
            ]
            if let connector = tags.value("\(prefix).ConnectorId")?.integerValue { payload["connectorId"] = .int(connector) }
            let result = await bridge.call(chargePoint: cp, action: "TriggerMessage", payload: .object(payload))
            switch result {
            case .success(let answer):
                writes.append(TagWrite(name: "\(prefix).Status", value: .string(answer["status"]?.stringValue ?? "")))
            case .failure(let failure):
                writes.append(TagWrite(name: "\(prefix).Status", value: .string("Error: \(failure)")))
            }
        } else {
            let action = tags.value("\(prefix).Action")?.textValue ?? ""
            let text = tags.value("\(prefix).Payload")?.textValue ?? "{}"
            let result: Result<JSONValue, CallFailure>
            do {
                let payload = try JSONValue(parsing: text.isEmpty ? "{}" : text)
                result = await bridge.call(chargePoint: cp, action: action, payload: payload)
            } catch {
                result = .failure(CallFailure(.invalidRequest, "\(prefix).Payload is not JSON: \(error)"))
            }
            switch result {
            case .success(let answer):
                writes.append(TagWrite(name: "\(prefix).Result", value: .string(answer.jsonText)))
                writes.append(TagWrite(name: "\(prefix).Error", value: .string("")))
            case .failure(let failure):
                writes.append(TagWrite(name: "\(prefix).Result", value: .string("")))
                writes.append(TagWrite(name: "\(prefix).Error", value: .string(failure.description)))
            }
        }
        writes.append(TagWrite(name: "\(prefix).Response", value: .int(number)))
        tags.write(writes)
        logger.info("command tag handled", metadata: ["ocpp.chargePointId": .string(cp), "tag": .string(prefix), "request": .stringConvertible(number)])
    }
}
