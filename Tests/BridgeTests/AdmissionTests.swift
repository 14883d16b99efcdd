import Foundation
import Logging
import Testing

@testable import Bridge
@testable import TagStore

/// Who may connect: every rule of docs/security.md's admission table, without a socket.
@Suite struct AdmissionTests {
    static let password = "abcdefghijklmnop1234"

    func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    func withAdmission(
        profile: Int = 0, unknown: UnknownChargePointPolicy = .accept, _ body: (Admission, TagStore) async throws -> Void
    ) async throws {
        let store = try TagStore.temporary(logger: Logger(label: "test"))
        var configuration = SecurityConfiguration()
        configuration.profile = profile
        configuration.unknownChargePoints = unknown
        try await body(Admission(configuration: configuration, store: store, logger: Logger(label: "test")), store)
        await store.close()
    }

    /// Waits for the background save of a registration made on the upgrade path.
    func stored(_ store: TagStore, _ id: String) async throws -> Registration? {
        for _ in 0..<100 {
            if let registration = try store.registration(of: id) { return registration }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test func passwordsAreSaltedHashesVerifiedInConstantTime() {
        let (salt, hash) = PasswordHash.make(Array(Self.password.utf8))
        let (otherSalt, otherHash) = PasswordHash.make(Array(Self.password.utf8))
        #expect(salt.count == 16 && hash.count == 32)
        #expect(salt != otherSalt && hash != otherHash)
        #expect(PasswordHash.verify(Array(Self.password.utf8), salt: salt, hash: hash))
        #expect(!PasswordHash.verify(Array("abcdefghijklmnop1235".utf8), salt: salt, hash: hash))
        #expect(!PasswordHash.verify(Array(Self.password.utf8), salt: otherSalt, hash: hash))
        #expect(PasswordHash.generate().count == 24)
    }

    @Test func basicCredentialsAreBytesSplitAtTheFirstColon() {
        let credentials = BasicCredentials(header: "basic " + Data("CP1:pa:ss".utf8).base64EncodedString())
        #expect(credentials?.username == Array("CP1".utf8) && credentials?.password == Array("pa:ss".utf8))
        let binary = BasicCredentials(header: "Basic " + Data([0x43, 0x3A, 0xFF, 0x00]).base64EncodedString())
        #expect(binary?.password == [0xFF, 0x00])
        #expect(BasicCredentials(header: "Bearer abc") == nil)
        #expect(BasicCredentials(header: "Basic !!!") == nil)
        #expect(BasicCredentials(header: "Basic " + Data("nocolon".utf8).base64EncodedString()) == nil)
    }

    @Test func profile0AcceptsAndRegistersUnknownChargePoints() async throws {
        try await withAdmission { admission, store in
            #expect(admission.admit("CP1", authorization: nil) == .admit(.accepted))
            let registration = try await stored(store, "CP1")
            #expect(registration?.status == .accepted && registration?.hasPassword == false)
        }
    }

    @Test func aStoredPasswordIsRequiredWhateverTheProfile() async throws {
        try await withAdmission { admission, _ in
            try await admission.update("CP1", status: .accepted, password: Self.password)
            #expect(admission.admit("CP1", authorization: nil) == .unauthorized("a password is set for 'CP1' and none was sent"))
            #expect(admission.admit("CP1", authorization: basic("CP1", "wrongwrongwrongwrong")) == .unauthorized("wrong password for 'CP1'"))
            #expect(admission.admit("CP1", authorization: basic("CP2", Self.password)) == .unauthorized("the Basic-auth username is not the charge point id"))
            #expect(admission.admit("CP1", authorization: basic("CP1", Self.password)) == .admit(.accepted))
        }
    }

    @Test func profile1WithRejectAdmitsOnlyProvisionedPasswords() async throws {
        try await withAdmission(profile: 1, unknown: .reject) { admission, store in
            #expect(admission.admit("NEW", authorization: basic("NEW", Self.password)) == .refused("charge point 'NEW' is unknown"))
            try await admission.update("KNOWN", status: .accepted, password: nil)
            #expect(admission.admit("KNOWN", authorization: nil) == .unauthorized("security profile 1 needs a Basic-auth password"))
            #expect(admission.admit("KNOWN", authorization: basic("KNOWN", Self.password)) == .unauthorized("no password is set for 'KNOWN'"))
            #expect(try store.registration(of: "NEW") == nil)
        }
    }

    @Test func profile1WithAcceptKeepsTheFirstPasswordPresented() async throws {
        try await withAdmission(profile: 1, unknown: .accept) { admission, store in
            #expect(admission.admit("NEW", authorization: nil) == .unauthorized("security profile 1 needs a Basic-auth password"))
            #expect(admission.admit("NEW", authorization: basic("NEW", Self.password)) == .admit(.accepted))
            let registration = try await stored(store, "NEW")
            #expect(registration?.hasPassword == true)
            #expect(admission.admit("NEW", authorization: basic("NEW", "another-password-1234")) == .unauthorized("wrong password for 'NEW'"))
            #expect(admission.admit("NEW", authorization: basic("NEW", Self.password)) == .admit(.accepted))
        }
    }

    @Test func pendingChargePointsStayPendingUntilAccepted() async throws {
        try await withAdmission(unknown: .pending) { admission, store in
            #expect(admission.admit("P1", authorization: nil) == .admit(.pending))
            #expect(admission.isPending("P1"))
            let registration = try await stored(store, "P1")
            #expect(registration?.status == .pending)
            // Accepted by another process (the chargepoint command) writing the database.
            try await store.saveRegistration(Registration(chargePoint: "P1", status: .accepted))
            #expect(!admission.isPending("P1"))
            #expect(!admission.isPending("never-seen"))
        }
    }

    @Test func rejectedChargePointsAndProfile3IdentitiesAreChecked() async throws {
        try await withAdmission(profile: 3) { admission, _ in
            #expect(admission.admit("CP1", authorization: nil, certificateIdentity: "CP1") == .admit(.accepted))
            #expect(admission.admit("CP2", authorization: nil, certificateIdentity: "CP1") == .unauthorized("the client certificate names 'CP1', not 'CP2'"))
            #expect(admission.admit("CP2", authorization: nil) == .unauthorized("the client certificate names no charge point, not 'CP2'"))
            try await admission.update("CP1", status: .rejected, password: nil)
            #expect(admission.admit("CP1", authorization: nil, certificateIdentity: "CP1") == .refused("charge point 'CP1' is rejected"))
        }
    }
}
