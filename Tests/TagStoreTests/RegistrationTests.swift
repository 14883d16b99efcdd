import Foundation
import Testing

@testable import TagStore

@Suite struct RegistrationTests {
    @Test func registrationsAreStoredReplacedAndRemoved() async throws {
        try await withStore { store, database in
            #expect(try store.registration(of: "CP1") == nil)
            let stamp = Date(timeIntervalSince1970: 1_800_000_000.123)
            let first = Registration(chargePoint: "CP1", status: .pending, updatedAt: stamp)
            try await store.saveRegistration(first)
            #expect(try store.registration(of: "CP1") == first)
            let withPassword = Registration(
                chargePoint: "CP1", status: .accepted, passwordSalt: Array(repeating: 7, count: 16),
                passwordHash: Array(repeating: 9, count: 32), updatedAt: stamp)
            try await store.saveRegistration(withPassword)
            #expect(try store.registration(of: "CP1") == withPassword)
            try await store.saveRegistration(Registration(chargePoint: "CP0", status: .rejected, updatedAt: stamp))
            #expect(try await store.registrations().map(\.chargePoint) == ["CP0", "CP1"])
            #expect(try database.sqlite("SELECT length(password_hash) FROM charge_point_registrations WHERE charge_point = 'CP1'") == "32")
            #expect(try await store.removeRegistration(of: "CP1"))
            #expect(try await !store.removeRegistration(of: "CP1"))
            #expect(try store.registration(of: "CP1") == nil)
        }
    }

    @Test func aHashWithoutASaltIsRefusedByTheSchema() async throws {
        try await withStore { store, _ in
            await #expect(throws: TagStoreError.self) {
                try await store.saveRegistration(Registration(chargePoint: "CP1", status: .accepted, passwordHash: [1, 2, 3]))
            }
        }
    }
}
