import Foundation
import Logging
import Synchronization
import TagStore

/// How the bridge authenticates charge points (docs/security.md).
public struct SecurityConfiguration: Sendable, Hashable {
    /// OCPP security profile: 0 no authentication, 1 HTTP Basic, 2 TLS with HTTP Basic, 3 mutual TLS (the
    /// client certificate names the charge point).
    public var profile: Int = 0
    /// What happens to a charge point without a registration.
    public var unknownChargePoints: UnknownChargePointPolicy = .accept
    /// The BootNotification interval (seconds) a Pending charge point is told to retry after.
    public var pendingInterval: Int = 30

    public init() {}

    /// Whether charge points must present an HTTP Basic password (profiles 1 and 2).
    public var requiresPassword: Bool { profile == 1 || profile == 2 }
}

/// The policy for charge points the bridge has no registration for.
public enum UnknownChargePointPolicy: String, Sendable, Hashable, CaseIterable {
    /// Registered as Accepted on first connection (with the password it presents, under profiles 1 and 2).
    case accept
    /// Registered as Pending: it connects, its BootNotification is answered Pending until an operator accepts it.
    case pending
    /// Refused at the upgrade (404, as OCPP-J says for an unrecognised charge point).
    case reject
}

/// The outcome of a WebSocket upgrade's admission check.
public enum AdmissionDecision: Sendable, Hashable {
    /// Upgrade; the charge point's registration status is this.
    case admit(Registration.Status)
    /// Answer 401 with `WWW-Authenticate: Basic`: credentials missing or wrong.
    case unauthorized(String)
    /// Answer 404: an unknown charge point under the reject policy, or one an operator rejected.
    case refused(String)
    /// Answer 503: the registrations could not be read.
    case unavailable(String)
}

/// Decides who may connect, and keeps charge point registrations (Accepted, Pending, Rejected, and the
/// Basic-auth password hash) in SQLite. The upgrade path cannot await, so reads are synchronous (registrations
/// are few, and read only on upgrades and from Pending charge points); a registration made on the upgrade
/// path is visible here at once and committed in the background.
public final class Admission: Sendable {
    public let configuration: SecurityConfiguration
    let store: TagStore
    let logger: Logger
    /// Registrations saved on the upgrade path and not yet committed.
    private let unsaved = Mutex<[String: Registration]>([:])
    /// Charge points known to be Pending, so that their messages are checked (everyone else's are not).
    private let pending = Mutex<Set<String>>([])

    public init(configuration: SecurityConfiguration, store: TagStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// The registration of a charge point as it stands now; nil if it has none.
    public func registration(of id: String) throws -> Registration? {
        if let unsaved = unsaved.withLock({ $0[id] }) { return unsaved }
        return try store.registration(of: id)
    }

    /// Decides a WebSocket upgrade, synchronously.
    /// - Parameters:
    ///   - id: the charge point id of the URL, percent-decoded.
    ///   - authorization: the `Authorization` header, if any.
    ///   - certificateIdentity: under profile 3, the charge point id the client certificate names.
    public func admit(_ id: String, authorization: String?, certificateIdentity: String? = nil) -> AdmissionDecision {
        let registration: Registration?
        do {
            registration = try self.registration(of: id)
        } catch {
            logger.error("cannot read charge point registrations", metadata: ["error": .string("\(error)")])
            return .unavailable("the registrations cannot be read")
        }
        if configuration.profile == 3, certificateIdentity != id {
            return .unauthorized("the client certificate names \(certificateIdentity.map { "'\($0)'" } ?? "no charge point"), not '\(id)'")
        }
        if registration?.status == .rejected { return .refused("charge point '\(id)' is rejected") }
        let credentials = authorization.flatMap(BasicCredentials.init(header:))
        if let credentials, credentials.username != Array(id.utf8) {
            return .unauthorized("the Basic-auth username is not the charge point id")
        }
        if let registration, let salt = registration.passwordSalt, let hash = registration.passwordHash {
            // A stored password is always required, whatever the profile.
            guard let credentials else { return .unauthorized("a password is set for '\(id)' and none was sent") }
            guard PasswordHash.verify(credentials.password, salt: salt, hash: hash) else {
                return .unauthorized("wrong password for '\(id)'")
            }
            return admitted(registration.status, id)
        }
        let mustPresent = configuration.requiresPassword
        if mustPresent, credentials == nil { return .unauthorized("security profile \(configuration.profile) needs a Basic-auth password") }
        if let registration {
            guard mustPresent, let credentials else { return admitted(registration.status, id) }
            // Known, without a password yet: the first one presented is kept, unless only provisioned
            // passwords are allowed.
            guard configuration.unknownChargePoints != .reject else { return .unauthorized("no password is set for '\(id)'") }
            register(id, status: registration.status, password: credentials.password, replacing: registration, note: "password stored on first use")
            return admitted(registration.status, id)
        }
        switch configuration.unknownChargePoints {
        case .reject:
            return .refused("charge point '\(id)' is unknown")
        case .accept, .pending:
            let status: Registration.Status = configuration.unknownChargePoints == .accept ? .accepted : .pending
            register(id, status: status, password: mustPresent ? credentials?.password : nil, replacing: nil, note: "unknown charge point registered")
            return admitted(status, id)
        }
    }

    /// Whether a connected charge point is waiting for an operator to accept it; re-read from the database,
    /// since another process may have accepted it.
    public func isPending(_ id: String) -> Bool {
        guard pending.withLock({ $0.contains(id) }) else { return false }
        let status = (try? registration(of: id))?.status
        if status != .pending { _ = pending.withLock { $0.remove(id) } }
        return status == .pending
    }

    /// Sets a charge point's status and, optionally, its password (nil leaves it; `clearPassword` removes it).
    @discardableResult
    public func update(
        _ id: String, status: Registration.Status?, password: String?, clearPassword: Bool = false
    ) async throws -> Registration {
        // An operator's change replaces a registration made on the upgrade path and not yet committed.
        let uncommitted = unsaved.withLock { $0.removeValue(forKey: id) }
        var registration = try uncommitted ?? store.registration(of: id) ?? Registration(chargePoint: id, status: .accepted)
        if let status { registration.status = status }
        if clearPassword { (registration.passwordSalt, registration.passwordHash) = (nil, nil) }
        if let password {
            let made = PasswordHash.make(Array(password.utf8))
            (registration.passwordSalt, registration.passwordHash) = (made.salt, made.hash)
        }
        registration.updatedAt = Date()
        try await store.saveRegistration(registration)
        note(registration.status, id)
        return registration
    }

    /// Forgets a charge point's registration; it is unknown again.
    public func remove(_ id: String) async throws -> Bool {
        _ = pending.withLock { $0.remove(id) }
        return try await store.removeRegistration(of: id)
    }

    private func admitted(_ status: Registration.Status, _ id: String) -> AdmissionDecision {
        note(status, id)
        return .admit(status)
    }

    private func note(_ status: Registration.Status, _ id: String) {
        pending.withLock { pending in
            if status == .pending { pending.insert(id) } else { pending.remove(id) }
        }
    }

    private func register(_ id: String, status: Registration.Status, password: [UInt8]?, replacing old: Registration?, note: String) {
        var registration = Registration(chargePoint: id, status: status)
        if let password {
            let made = PasswordHash.make(password)
            (registration.passwordSalt, registration.passwordHash) = (made.salt, made.hash)
        }
        unsaved.withLock { $0[id] = registration }
        logger.notice(
            "\(note)", metadata: ["ocpp.chargePointId": .string(id), "ocpp.registration": .string(status.rawValue)])
        Task { [self] in
            do {
                // An operator's change that came meanwhile wins.
                _ = try await store.saveRegistration(registration, ifStillIs: old)
            } catch {
                logger.error("could not store a registration", metadata: ["ocpp.chargePointId": .string(id), "error": .string("\(error)")])
            }
            unsaved.withLock { if $0[id] == registration { $0[id] = nil } }
        }
    }
}

/// The username and password of an `Authorization: Basic …` header, as bytes (OCPP 1.6 passwords may be
/// binary).
public struct BasicCredentials: Sendable, Hashable {
    public var username: [UInt8]
    public var password: [UInt8]

    /// Nil unless the header is `Basic` with base64 of `username:password`.
    public init?(header: String) {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let bytes = [UInt8](data)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        username = Array(bytes[..<colon])
        password = Array(bytes[(colon + 1)...])
    }
}
