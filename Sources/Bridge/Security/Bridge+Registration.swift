import Foundation
import OCPPRPC
import TagStore

extension Bridge {
    /// Changes a charge point's registration (REST API, `{cp}.Registration.Status`) and acts on it: an accepted
    /// Pending charge point that is connected is asked to boot again (TriggerMessage BootNotification), a
    /// rejected one is disconnected. The status is mirrored in `{cp}.Registration.Status`.
    @discardableResult
    public func updateRegistration(
        _ id: String, status: Registration.Status?, password: String? = nil, clearPassword: Bool = false
    ) async throws -> Registration {
        let before = try admission.registration(of: id)?.status
        let registration = try await admission.update(id, status: status, password: password, clearPassword: clearPassword)
        tags.write([Self.registrationTag(id, registration.status)])
        guard registration.status != before, let session = registry.session(id) else { return registration }
        logger.notice(
            "registration changed", metadata: ["ocpp.chargePointId": .string(id), "ocpp.registration": .string(registration.status.rawValue)])
        switch registration.status {
        case .accepted where before == .pending:
            Task {
                let result = await self.call(chargePoint: id, action: "TriggerMessage", payload: ["requestedMessage": "BootNotification"])
                if case .failure(let failure) = result {
                    self.logger.info("could not ask an accepted charge point to boot again", metadata: ["ocpp.chargePointId": .string(id), "error": .string(failure.description)])
                }
            }
        case .rejected:
            session.close(.protocolError("rejected by an operator"))
            await disconnected(session)
        default:
            break
        }
        return registration
    }

    /// Forgets a charge point's registration (it is unknown again) and clears `{cp}.Registration.Status`, so that
    /// the tag's old value is not taken for an operator's new one. Returns whether it had one.
    public func removeRegistration(_ id: String) async throws -> Bool {
        // The tag first: a tag observer that runs meanwhile then finds either the stored status or nothing.
        if tags.tag("\(id).Registration.Status") != nil {
            tags.write([TagWrite(name: "\(id).Registration.Status", value: .null, access: .readWrite)])
        }
        return try await admission.remove(id)
    }

    /// `{cp}.Registration.Status`: writable, so that an operator can accept a Pending charge point from an HMI.
    static func registrationTag(_ id: String, _ status: Registration.Status) -> TagWrite {
        TagWrite(name: "\(id).Registration.Status", value: .string(status.rawValue), access: .readWrite)
    }

    /// Follows `{cp}.Registration.Status` writes by others (REST, SQLite clients, scripts) and applies them.
    public func followRegistrationTags() {
        tags.observe { [weak self] names in
            guard let self else { return }
            for name in names where name.hasSuffix(".Registration.Status") {
                let id = String(name.dropLast(".Registration.Status".count))
                // A cleared tag (the registration was removed) asks for nothing.
                guard let text = self.tags.value(name)?.textValue, !text.isEmpty else { continue }
                guard let status = Registration.Status(rawValue: text) else {
                    self.logger.warning("\(name): '\(text)' is not a registration status (Accepted, Pending, Rejected)")
                    continue
                }
                guard (try? self.admission.registration(of: id))??.status != status else { continue }
                Task {
                    do {
                        try await self.updateRegistration(id, status: status)
                    } catch {
                        self.logger.error("could not change a registration", metadata: ["ocpp.chargePointId": .string(id), "error": .string("\(error)")])
                    }
                }
            }
        }
    }
}
