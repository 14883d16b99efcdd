import Foundation
import GRDB

/// A charge point's registration: whether it may connect, and the hash of its Basic-auth password.
public struct Registration: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// May connect and boot.
        case accepted = "Accepted"
        /// Connects; its BootNotification is answered Pending until an operator accepts it.
        case pending = "Pending"
        /// Refused at the WebSocket upgrade.
        case rejected = "Rejected"
    }

    public var chargePoint: String
    public var status: Status
    /// SHA-256(salt || password) and its salt; nil when no password is set.
    public var passwordSalt: [UInt8]?
    public var passwordHash: [UInt8]?
    public var updatedAt: Date

    public init(chargePoint: String, status: Status, passwordSalt: [UInt8]? = nil, passwordHash: [UInt8]? = nil, updatedAt: Date = Date()) {
        self.chargePoint = chargePoint
        self.status = status
        self.passwordSalt = passwordSalt
        self.passwordHash = passwordHash
        self.updatedAt = updatedAt
    }

    /// Whether a password is set.
    public var hasPassword: Bool { passwordHash != nil }

    /// Whether both say the same (status and password), whenever they were written.
    public func sameContent(as other: Registration?) -> Bool {
        guard let other else { return false }
        return (chargePoint, status, passwordSalt, passwordHash) == (other.chargePoint, other.status, other.passwordSalt, other.passwordHash)
    }
}

// Registrations are few and small; they are read synchronously on the WebSocket upgrade path, which
// cannot await (STACK.md), and written durably.
extension TagStore {
    /// The registration of a charge point, read from the database now (another process, such as the
    /// `ocpp-bridge chargepoint` command, may have changed it); nil if it has none.
    public func registration(of chargePoint: String) throws -> Registration? {
        try checkOpen("registration")
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: Self.selectRegistrations + " WHERE charge_point = ?", arguments: [chargePoint])
                    .map(Self.registration(from:))
            }
        } catch {
            throw TagStoreError.storageFailed("registration", underlying: error)
        }
    }

    /// Every registration, by charge point id.
    public func registrations() async throws -> [Registration] {
        try checkOpen("registrations")
        return try await storage("registrations") {
            try await read { db in
                try Row.fetchAll(db, sql: Self.selectRegistrations + " ORDER BY charge_point").map(Self.registration(from:))
            }
        }
    }

    /// Stores a registration (inserted or replaced) durably.
    public func saveRegistration(_ registration: Registration) async throws {
        try checkOpen("saveRegistration")
        try await durableWrite("saveRegistration") { db in try Self.upsert(registration, db) }
    }

    /// Stores a registration only if the stored one is still `expected` (status and password; nil: none is
    /// stored), so that a registration made on the upgrade path never overwrites an operator's newer change.
    /// Returns whether it was stored.
    public func saveRegistration(_ registration: Registration, ifStillIs expected: Registration?) async throws -> Bool {
        try checkOpen("saveRegistration")
        return try await durableWrite("saveRegistration") { db in
            let current = try Row.fetchOne(db, sql: Self.selectRegistrations + " WHERE charge_point = ?", arguments: [registration.chargePoint])
                .map(Self.registration(from:))
            guard current?.sameContent(as: expected) ?? (expected == nil) else { return false }
            try Self.upsert(registration, db)
            return true
        }
    }

    private static func upsert(_ registration: Registration, _ db: Database) throws {
            try db.execute(
                sql: """
                    INSERT INTO charge_point_registrations (charge_point, status, password_salt, password_hash, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (charge_point) DO UPDATE SET
                        status = excluded.status, password_salt = excluded.password_salt,
                        password_hash = excluded.password_hash, updated_at = excluded.updated_at
                    """,
                arguments: [
                    registration.chargePoint, registration.status.rawValue,
                    registration.passwordSalt.map { Data($0) }, registration.passwordHash.map { Data($0) },
                    Timestamp.format(registration.updatedAt),
                ])
    }

    /// Removes a charge point's registration; it is unknown again. Returns whether it had one.
    @discardableResult
    public func removeRegistration(of chargePoint: String) async throws -> Bool {
        try checkOpen("removeRegistration")
        return try await durableWrite("removeRegistration") { db in
            try db.execute(sql: "DELETE FROM charge_point_registrations WHERE charge_point = ?", arguments: [chargePoint])
            return db.changesCount > 0
        }
    }

    private static let selectRegistrations = """
        SELECT charge_point, status, password_salt, password_hash, updated_at FROM charge_point_registrations
        """

    private static func registration(from row: Row) throws -> Registration {
        let status: String = try row.decode(atIndex: 1)
        let salt: Data? = try row.decode(atIndex: 2)
        let hash: Data? = try row.decode(atIndex: 3)
        return Registration(
            chargePoint: try row.decode(atIndex: 0), status: Registration.Status(rawValue: status) ?? .rejected,
            passwordSalt: salt.map { [UInt8]($0) }, passwordHash: hash.map { [UInt8]($0) },
            updatedAt: TagRows.date(try row.decode(atIndex: 4)))
    }
}
